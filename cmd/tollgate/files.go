package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/tollgate/tollgate/config"
	"github.com/tollgate/tollgate/server/keys"
)

// embeddedFile returns the SQLite database file of an embedded
// configuration, made absolute so that messages name it unambiguously, or
// "" for PostgreSQL and in-memory databases.
func embeddedFile(cfg config.Config) string {
	file, _, _ := strings.Cut(cfg.SQLitePath(), "?")
	file = strings.TrimPrefix(file, "//")
	if file == "" || file == ":memory:" {
		return ""
	}
	if abs, err := filepath.Abs(file); err == nil {
		return abs
	}
	return file
}

// requireEmbeddedDatabase stops an admin command that would otherwise
// create a new, empty embedded database: run from another folder, it would
// silently make clients the server never sees. Only serve and migrate
// create the database (and its master key file).
func requireEmbeddedDatabase(cfg config.Config) error {
	file := embeddedFile(cfg)
	if file == "" {
		return nil
	}
	if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no Tollgate database at %s; admin commands do not create one. "+
			"Run them in the folder where 'tollgate serve' runs (it creates tollgate.db there on first start), "+
			"or point TOLLGATE_DATABASE_URL at the server's file, e.g. TOLLGATE_DATABASE_URL=sqlite:/srv/tollgate/tollgate.db", file)
	}
	return nil
}

// masterKeyMismatch explains a master key that does not open the
// database's signing keys.
const masterKeyMismatch = "the master key does not open the signing keys in this database, so it is not the key the server uses: " +
	"anything created with it would not work. Set TOLLGATE_MASTER_KEY or TOLLGATE_MASTER_KEY_FILE to the server's master key " +
	"(on the embedded default, the tollgate.key beside the database); see docs/DEPLOY.md, \"Wrong or lost master key\""

// checkMasterKey fails, before anything is written, when the master key is
// not the one the database's signing keys were sealed with: client secrets
// and API keys hashed under another key's pepper would be dead on arrival.
// On a database without signing keys it creates the first one, sealed with
// this key, so that every later process is checked against it.
func checkMasterKey(ctx context.Context, km *keys.Manager) error {
	if err := km.Load(ctx); err != nil {
		if errors.Is(err, keys.ErrUnseal) {
			return errors.New(masterKeyMismatch)
		}
		return fmt.Errorf("loading signing keys: %w", err)
	}
	return nil
}

// warnReadable logs a warning for each secret-bearing file that users other
// than its owner may read: the SQLite database (password hashes, sealed
// keys) and a master key file.
func warnReadable(ctx context.Context, cfg config.Config, log *slog.Logger) {
	files := []struct{ path, what string }{{embeddedFile(cfg), "database"}, {cfg.KeyFilePath(), "master key file"}}
	for _, f := range files {
		if f.path == "" {
			continue
		}
		fi, err := os.Stat(f.path)
		if err != nil || fi.Mode().Perm()&0o077 == 0 {
			continue
		}
		log.LogAttrs(ctx, slog.LevelWarn, "the "+f.what+" is readable by other users; restrict it with: chmod 600 "+f.path,
			slog.String("file", f.path), slog.String("mode", fi.Mode().Perm().String()))
	}
}
