package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// MasterKeySize is the length of the decoded master key: an AES-256 key.
const MasterKeySize = 32

const generateHint = "generate one with: openssl rand -base64 32"

// DecodeMasterKey decodes a master key written as standard base64 of
// MasterKeySize bytes, the output of `openssl rand -base64 32`. Surrounding
// whitespace (a file's trailing newline) is ignored. Errors never contain the
// key.
func DecodeMasterKey(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, errors.New("is not standard base64; " + generateHint)
	}
	if len(key) != MasterKeySize {
		return nil, fmt.Errorf("decodes to %d bytes, need %d; %s", len(key), MasterKeySize, generateHint)
	}
	return key, nil
}

// validateMasterKey checks where the master key comes from. File contents are
// checked when the file is read, not here: Validate does no I/O.
func validateMasterKey(c Config) []error {
	var errs []error
	if c.MasterKey != "" && c.MasterKeyFile != "" {
		errs = append(errs, errors.New("master_key (TOLLGATE_MASTER_KEY) and master_key_file (TOLLGATE_MASTER_KEY_FILE) are both set: keep only one"))
	}
	if c.MasterKey != "" {
		if _, err := DecodeMasterKey(c.MasterKey); err != nil {
			errs = append(errs, fmt.Errorf("master_key (TOLLGATE_MASTER_KEY) %w", err))
		}
	}
	if c.MasterKey == "" && c.MasterKeyFile == "" && isPostgres(c.Database.URL) {
		// Every node sharing the database must unseal the same signing keys,
		// so no node may generate its own.
		errs = append(errs, errors.New("master_key (TOLLGATE_MASTER_KEY) is required with PostgreSQL: set it ("+
			generateHint+") or set master_key_file (TOLLGATE_MASTER_KEY_FILE) to a file holding it"))
	}
	return errs
}
