package main

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// An admin command run where no database exists stops and says where it
// looked, instead of creating an empty database and key the server never
// sees.
func TestAdminCommandFindsNoDatabase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dbFile := filepath.Join(dir, "tollgate.db")
	e := &testEnv{t: t, vars: map[string]string{"TOLLGATE_DATABASE_URL": "sqlite:" + dbFile}}
	for _, args := range [][]string{
		{"client", "create", "--name", "stray"},
		{"client", "list"},
		{"user", "list"},
		{"keys", "list"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			_, err := e.cli("", args...)
			if err == nil {
				t.Fatal("succeeded without a database")
			}
			for _, want := range []string{dbFile, "TOLLGATE_DATABASE_URL", "tollgate serve"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range entries {
		t.Errorf("the commands left %s behind", f.Name())
	}
	// migrate makes the embedded setup: the database and its key file.
	e.mustCLI("", "migrate")
	for _, f := range []string{dbFile, filepath.Join(dir, "tollgate.key")} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("after migrate: %v", err)
		}
	}
	e.mustCLI("", "client", "create", "--name", "first")
}

// An admin command on the embedded database whose key file is gone does
// not make a new key (which would seal nothing the server can open).
func TestAdminCommandFindsNoKeyFile(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	keyFile := filepath.Join(filepath.Dir(strings.TrimPrefix(e.vars["TOLLGATE_DATABASE_URL"], "sqlite:")), "tollgate.key")
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	_, err := e.cli("", "client", "create", "--name", "x")
	if err == nil || !strings.Contains(err.Error(), keyFile) {
		t.Fatalf("client create without the key file: %v", err)
	}
	if _, err := os.Stat(keyFile); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the command created %s: %v", keyFile, err)
	}
}

// A CLI or server given another master key than the one the database was
// set up with stops before writing anything: client secrets and API keys
// hashed under the wrong key would be refused by the server later.
func TestWrongMasterKeyStopsBeforeWriting(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, b)
			if b == embedded {
				e.vars["TOLLGATE_MASTER_KEY"] = newMasterKey()
			}
			e.mustCLI("", "client", "create", "--name", "right-key")
			right := e.vars["TOLLGATE_MASTER_KEY"]

			e.vars["TOLLGATE_MASTER_KEY"] = newMasterKey()
			for _, args := range [][]string{
				{"client", "create", "--name", "wrong-key"},
				{"user", "create", "--username", "wrong-key", "--password-stdin"},
				{"apikey", "create", "--name", "k", "--client", "whatever", "--scopes", "x"},
			} {
				_, err := e.cli("a long passphrase\n", args...)
				if err == nil || !strings.Contains(err.Error(), "master key does not open") || !strings.Contains(err.Error(), "TOLLGATE_MASTER_KEY") {
					t.Errorf("%s with the wrong key: %v", strings.Join(args, " "), err)
				}
			}
			// A serve that starts runs until the deadline and returns nil.
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			err := run(ctx, []string{"serve"}, withVar(e.getenv, "TOLLGATE_ADDR", "127.0.0.1:0"), strings.NewReader(""), &strings.Builder{}, &strings.Builder{})
			if err == nil || !strings.Contains(err.Error(), "master key does not open") {
				t.Errorf("serve with the wrong key: %v", err)
			}

			e.vars["TOLLGATE_MASTER_KEY"] = right
			out := e.mustCLI("", "client", "list")
			if strings.Contains(out, "wrong-key") || !strings.Contains(out, "right-key") {
				t.Errorf("client list after the refused commands:\n%s", out)
			}
			out = e.mustCLI("", "user", "list")
			if strings.Contains(out, "wrong-key") {
				t.Errorf("user list after the refused commands:\n%s", out)
			}
		})
	}
}

// serve warns about a database file that others can read.
func TestServeWarnsAboutReadableDatabase(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	dbFile := strings.TrimPrefix(e.vars["TOLLGATE_DATABASE_URL"], "sqlite:")
	if err := os.Chmod(dbFile, 0o644); err != nil {
		t.Fatal(err)
	}
	e.start()
	e.stop() // the logs are read once nothing writes them
	if !strings.Contains(e.logs.String(), "readable by other users; restrict it with: chmod 600 "+dbFile) {
		t.Errorf("no warning about the readable database in:\n%s", e.logs.String())
	}
}

func withVar(getenv func(string) string, key, value string) func(string) string {
	return func(k string) string {
		if k == key {
			return value
		}
		return getenv(k)
	}
}
