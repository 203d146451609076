package keys_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/tollgate/tollgate/server/keys"
	"github.com/tollgate/tollgate/store/sqlstore/sqltest"
)

// TestUnknownKidReloads: a key another node created is found on first
// sight, without waiting for the periodic refresh; garbage kids reload at
// most once a second.
func TestUnknownKidReloads(t *testing.T) {
	st := sqltest.OpenSQLite(t)
	seal := make([]byte, 32)
	_, _ = rand.Read(seal)
	open := func() *keys.Manager {
		m, err := keys.New(st, keys.Options{SealKey: seal, Retain: time.Hour, PrePublish: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Load(context.Background()); err != nil {
			t.Fatal(err)
		}
		return m
	}
	a, b := open(), open()
	k, err := a.Rotate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := b.PublicKey(k.ID); !ok {
		t.Fatal("a key another node created is unknown here")
	}
	if _, _, ok := b.PublicKey("no-such-kid"); ok {
		t.Fatal("a garbage kid was found")
	}
	k2, err := a.Rotate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := b.PublicKey(k2.ID); ok {
		t.Fatal("reloaded twice within a second: garbage kids could hammer the database")
	}
	time.Sleep(1100 * time.Millisecond)
	if _, _, ok := b.PublicKey(k2.ID); !ok {
		t.Fatal("no reload after the rate limit passed")
	}
}
