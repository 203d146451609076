package sqlstore

import (
	"bytes"
	"encoding/hex"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tollgate/tollgate/store"
)

// lockedBuffer is a bytes.Buffer safe for the pool's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestLogsStatementsWithoutValues(t *testing.T) {
	t.Parallel()
	var out lockedBuffer
	logger := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "t.db"), Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}

	secretHash := []byte("\x5e\xc7\xe7\x00hash-bytes-secret")
	c := &store.Client{ID: "client-id-1", Name: "name-secret-7f3a", SecretHash: secretHash}
	if err := s.CreateClient(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	u := &store.User{ID: "user-1", Username: "user-secret-91bc", PasswordHash: "$argon2id$hash-secret-c0de"}
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetUserByUsername(t.Context(), u.Username); err != nil {
		t.Fatal(err)
	}

	logged := out.String()
	if !strings.Contains(logged, "INSERT INTO") || !strings.Contains(logged, "level=DEBUG") {
		t.Fatalf("statements not logged at debug:\n%s", logged)
	}
	for _, secret := range []string{c.Name, u.Username, "hash-secret-c0de", "hash-bytes-secret", hex.EncodeToString(secretHash)} {
		if strings.Contains(logged, secret) {
			t.Errorf("log contains the value %q:\n%s", secret, logged)
		}
	}
}

func TestSilentWithoutDebug(t *testing.T) {
	t.Parallel()
	var out lockedBuffer
	logger := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo}))
	s, err := Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "t.db"), Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetClient(t.Context(), "missing"); err == nil {
		t.Fatal("found a missing client")
	}
	if got := out.String(); got != "" {
		t.Errorf("logged at info level:\n%s", got)
	}
}
