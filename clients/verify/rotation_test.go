package verify

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/clients/internal/tollgatetest"
	"github.com/tollgate/tollgate/internal/testenv"
)

// TestKeyRotation rotates the real server's signing key under a verifier
// that does not refresh its key set on its own, so that the first token
// signed with the new key has an unknown kid: the verifier must refetch
// the key set once and accept the token.
//
// The new key signs only TOLLGATE_KEY_PREPUBLISH after the rotation, and
// configuration requires at least a minute, so this test takes one: it
// runs with TOLLGATE_TEST_SLOW=1 (CI sets it). The
// server is restarted right after `tollgate keys rotate` (same address,
// database and issuer) so that it publishes and signs with the new key at
// a known moment instead of at its next once-a-minute key reload; the
// tokens, the JWKS and the CLI are all the real ones.
func TestKeyRotation(t *testing.T) {
	// The new key signs TOLLGATE_KEY_PREPUBLISH after the rotation, and
	// the server accepts no less than a minute. TestUnknownKidRefetchIsRateLimited
	// covers the refetch without the wait.
	testenv.Slow(t, "waits the one-minute minimum TOLLGATE_KEY_PREPUBLISH for the new key to sign")
	t.Parallel()
	srv := tollgatetest.Start(t, "TOLLGATE_KEY_PREPUBLISH=1m")
	tap := newNetTap()
	v := openReal(t, srv, func(o *Options) {
		o.HTTPClient = tap.client()
		o.KeyRefreshInterval = time.Hour // only an unknown kid may cause a fetch
		o.KeyRefetchInterval = time.Second
	})
	ctx := context.Background()
	c := srv.CreateClient(t)
	oldTok := srv.Token(t, c, "")
	h, _, _ := segments(t, oldTok)
	oldKid := h["kid"].(string)
	if _, err := v.Verify(ctx, oldTok); err != nil {
		t.Fatal(err)
	}

	out := srv.CLI(t, "", "keys", "rotate")
	newKid := strings.Fields(strings.TrimPrefix(out, "new key "))[0]
	srv.Restart()
	fetches := tap.count("/.well-known/jwks.json")

	// Until the new key signs, tokens still carry the old kid: no fetch.
	deadline := time.Now().Add(90 * time.Second)
	var tok string
	for {
		tok = srv.Token(t, c, "")
		h, _, _ := segments(t, tok)
		if kid := h["kid"].(string); kid == newKid {
			break
		} else if kid != oldKid {
			t.Fatalf("token signed with %s, neither %s nor %s", kid, oldKid, newKid)
		}
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatalf("old-key token during pre-publication: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the new key never signed")
		}
		time.Sleep(500 * time.Millisecond)
	}
	if n := tap.count("/.well-known/jwks.json"); n != fetches {
		t.Fatalf("%d key-set fetches before the new kid appeared", n-fetches)
	}

	p, err := v.Verify(ctx, tok)
	if err != nil {
		t.Fatalf("first token of the new key: %v", err)
	}
	if p.ClientID != c.ID {
		t.Fatalf("principal %+v", p)
	}
	if n := tap.count("/.well-known/jwks.json") - fetches; n != 1 {
		t.Fatalf("%d key-set fetches for the new kid, want 1", n)
	}
	// The old key is still published: its tokens stay valid.
	if _, err := v.Verify(ctx, oldTok); err != nil {
		t.Fatalf("old-key token after rotation: %v", err)
	}
}
