// Package keys manages Tollgate's key material: the master key given by the
// operator, the subkeys derived from it, and the lifecycle of the signing
// keys that sign access tokens (generation, sealing at rest, pre-publication,
// rotation, retirement and the JWKS).
package keys

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// MasterKeySize is the length of the master key in bytes.
const MasterKeySize = 32

// Purposes for Derive. Each names one use of a derived key; never reuse a
// purpose for another use.
const (
	PurposeClientSecretPepper = "client-secret-pepper"
	PurposeSigningKeySeal     = "signing-key-seal"
	PurposeDPoPNonce          = "dpop-nonce"
	// PurposeAudienceKeySeal seals the private keys of encrypted audiences
	// (server/encryption) at rest.
	PurposeAudienceKeySeal = "audience-key-seal"
)

const masterKeyHint = "TOLLGATE_MASTER_KEY must be 32 bytes in base64; generate one with: openssl rand -base64 32"

// ParseMasterKey decodes a master key given in standard base64 (surrounding
// whitespace ignored). The error says how to make a valid key and never
// contains the input.
func ParseMasterKey(b64 string) ([]byte, error) {
	s := strings.TrimSpace(b64)
	if s == "" {
		return nil, fmt.Errorf("keys: master key is empty: %s", masterKeyHint)
	}
	key, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("keys: master key is not valid base64: %s", masterKeyHint)
	}
	if len(key) != MasterKeySize {
		return nil, fmt.Errorf("keys: master key is %d bytes: %s", len(key), masterKeyHint)
	}
	return key, nil
}

// LoadOrCreateKeyFile returns the master key stored in base64 in the file at
// path, creating the file (mode 0600, and its directory, mode 0700) with a
// new random key if it does not exist. This is for the embedded default
// setup; production passes TOLLGATE_MASTER_KEY instead. It refuses a file
// that group or others may access, or that does not hold a valid key.
// Concurrent first calls from several processes all return the same key.
func LoadOrCreateKeyFile(path string) ([]byte, error) {
	key, err := readKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := createKeyFile(path); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	return readKeyFile(path)
}

func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keys: master key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("keys: master key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("keys: master key file %s is not a regular file", path)
	}
	// Windows has no Unix permission bits to check.
	if perm := fi.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return nil, fmt.Errorf("keys: master key file %s is accessible by group or others (mode %#o); run: chmod 600 %s",
			path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, 1024))
	if err != nil {
		return nil, fmt.Errorf("keys: master key file: %w", err)
	}
	key, err := ParseMasterKey(string(data))
	if err != nil {
		return nil, fmt.Errorf("keys: master key file %s: %w", path, err)
	}
	return key, nil
}

// createKeyFile writes a new key to a temporary file and hard-links it into
// place, so the key file is never seen half-written and a concurrent
// creator's key is never overwritten (Link fails with fs.ErrExist).
func createKeyFile(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("keys: master key file: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".tollgate-master-key-*") // mode 0600
	if err != nil {
		return fmt.Errorf("keys: master key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	key := make([]byte, MasterKeySize)
	rand.Read(key)
	_, err = tmp.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("keys: master key file: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		return fmt.Errorf("keys: master key file: %w", err)
	}
	return nil
}

// Derive returns the 32-byte subkey of master for purpose (HKDF-SHA256,
// RFC 5869, with purpose as the info string), so that one master key yields
// independent keys for independent uses.
func Derive(master []byte, purpose string) []byte {
	key, err := hkdf.Key(sha256.New, master, nil, purpose, 32)
	if err != nil {
		panic("keys: hkdf: " + err.Error()) // only for lengths above 255·32
	}
	return key
}
