package encryption

import (
	"context"
	"testing"
	"time"

	"github.com/tollgate/tollgate/store"
)

// TestEncryptOnANodeBehind: a node whose clock is behind the one that made
// an audience encrypted (or turned it on again) sees the audience's only
// open key as pending. Encrypt must still encrypt, to that key, rather
// than fail every token request for the audience with ErrNoKey (a 500)
// until its clock catches up; the key is already fetchable.
func TestEncryptOnANodeBehind(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, ahead := newMemStore(), newClock()
	behind := &clock{t: ahead.Now().Add(-3 * time.Second)}
	seal := testSealKey(t)
	a, b := newTestRing(t, st, seal, ahead), newTestRing(t, st, seal, behind)
	jws := signedToken(t, "api")
	for _, step := range []struct {
		name string
		do   func() error
	}{
		{"created encrypted", func() error {
			return a.CreateAudience(ctx, &store.Audience{Name: "api", Encrypted: true})
		}},
		{"turned off, then on again", func() error {
			if err := a.UpdateAudience(ctx, &store.Audience{Name: "api"}); err != nil {
				return err
			}
			ahead.Advance(time.Minute)
			behind.Advance(time.Minute)
			return a.UpdateAudience(ctx, &store.Audience{Name: "api", Encrypted: true})
		}},
	} {
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if err := b.Load(ctx); err != nil {
			t.Fatal(err)
		}
		tok, err := b.Encrypt("api", jws)
		if err != nil {
			t.Fatalf("%s: the node behind cannot encrypt: %v", step.name, err)
		}
		if got, aud, err := a.Decrypt(ctx, tok); err != nil || got != jws || aud != "api" {
			t.Fatalf("%s: the token does not decrypt: %v", step.name, err)
		}
	}
}
