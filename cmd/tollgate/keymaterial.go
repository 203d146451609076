package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"github.com/tollgate/tollgate/config"
	"github.com/tollgate/tollgate/server/encryption"
	"github.com/tollgate/tollgate/server/keys"
)

// masterKey returns the 32-byte master key: from TOLLGATE_MASTER_KEY, from
// a key file, or, on the embedded default, from a key file beside the
// database, which create (serve and migrate) makes on first start.
func masterKey(cfg config.Config, create bool) ([]byte, error) {
	if cfg.MasterKey != "" {
		return config.DecodeMasterKey(cfg.MasterKey)
	}
	path := cfg.KeyFilePath()
	embeddedKey := cfg.Embedded() && cfg.MasterKeyFile == ""
	if embeddedKey && create {
		return keys.LoadOrCreateKeyFile(path)
	}
	b, err := os.ReadFile(path)
	if embeddedKey && errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no master key file at %s beside the database; 'tollgate serve' creates it on first start. "+
			"Run the server once, or set TOLLGATE_MASTER_KEY_FILE to the server's key file", path)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the master key file (TOLLGATE_MASTER_KEY_FILE): %w; create it with: openssl rand -base64 32 > %s", err, path)
	}
	k, err := config.DecodeMasterKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("master key file %s %w", path, err)
	}
	return k, nil
}

// newRing loads the audiences and their encryption keys (sealed with a key
// of their own derived from the master key), retained like signing keys.
func newRing(ctx context.Context, cfg config.Config, master []byte, st *stores, log *slog.Logger) (*encryption.Ring, error) {
	ring, err := encryption.New(st.sql, encryption.Options{
		SealKey:    keys.Derive(master, keys.PurposeAudienceKeySeal),
		PrePublish: cfg.Tokens.KeyPrePublish,
		Retain:     cfg.Tokens.AccessTTL + cfg.Tokens.ClockSkew,
		Lifetimes:  st.sql,
		ClockSkew:  cfg.Tokens.ClockSkew,
		Logger:     log,
	})
	if err == nil {
		err = ring.Load(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("loading the audiences' encryption keys: %w", err)
	}
	return ring, nil
}
