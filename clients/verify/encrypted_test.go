package verify

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// newEncIssuer is a fake issuer with signing key k1 and audience keys:
// e1 (ECDH-ES+A256KW) and r1 (RSA-OAEP-256) of the verifier's audience,
// o1 of another audience.
func newEncIssuer(t testing.TB) *fakeIssuer {
	f := newFakeIssuer(t)
	f.addKey(t, "k1", true)
	f.addEncKey(t, "https://api.example", "e1", jose.ECDH_ES_A256KW, true)
	f.addEncKey(t, "https://api.example", "r1", jose.RSA_OAEP_256, true)
	f.addEncKey(t, "https://other.example", "o1", jose.ECDH_ES_A256KW, true)
	return f
}

// privateClaims are the subject's private claims, as Tollgate adds them
// to the tokens of encrypted audiences only.
func privateClaims(c map[string]any) map[string]any {
	c["tenant_id"] = "t-42"
	c["risk"] = map[string]any{"score": 0.7}
	return c
}

// TestEncryptedTokenAccepted: a nested token of either key algorithm is
// accepted with Encrypted set and its private claims readable; the keys
// are fetched once, with the verifier's credentials and audience, from
// the endpoint the metadata names.
func TestEncryptedTokenAccepted(t *testing.T) {
	t.Parallel()
	f := newEncIssuer(t)
	v := mustOpen(t, f.options())
	ctx := context.Background()
	if n := len(f.calls()); n != 0 {
		t.Fatalf("%d audience-key fetches at Open", n)
	}
	for _, kid := range []string{"e1", "r1"} {
		t.Run(kid, func(t *testing.T) {
			claims := privateClaims(f.claims(time.Now()))
			tok := f.nested(t, "k1", claims, kid, nil)
			if parts := strings.Count(tok, ".") + 1; parts != 5 {
				t.Fatalf("token has %d parts", parts)
			}
			p, err := v.Verify(ctx, tok)
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !p.Encrypted || p.Subject != "tgc_app" || p.ID != claims["jti"] || !slices.Equal(p.Scopes, []string{"a", "b"}) ||
				!slices.Equal(p.Audience, []string{"https://api.example"}) {
				t.Fatalf("principal %+v", p)
			}
			var got map[string]any
			if err := json.Unmarshal(p.Claims, &got); err != nil {
				t.Fatal(err)
			}
			if got["tenant_id"] != "t-42" || got["risk"].(map[string]any)["score"] != 0.7 {
				t.Fatalf("claims %s", p.Claims)
			}
			again, err := v.Verify(ctx, tok)
			if err != nil || again != p {
				t.Fatalf("second verification: %v, same principal %v", err, again == p)
			}
		})
	}
	calls := f.calls()
	if len(calls) != 1 {
		t.Fatalf("%d audience-key fetches, want 1: %+v", len(calls), calls)
	}
	want := keyCall{method: "GET", path: namedKeysPath, user: "rs", pass: "secret", audience: "https://api.example"}
	if calls[0] != want {
		t.Fatalf("audience-key request %+v, want %+v", calls[0], want)
	}
	plain := f.token(t, "k1", f.claims(time.Now()), nil)
	if p, err := v.Verify(ctx, plain); err != nil || p.Encrypted {
		t.Fatalf("plain token: %v, %+v", err, p)
	}
}

// TestAudienceKeysEndpointFallback: metadata without
// audience_keys_endpoint sends the verifier to Tollgate's path.
func TestAudienceKeysEndpointFallback(t *testing.T) {
	t.Parallel()
	f := newEncIssuer(t)
	f.mu.Lock()
	f.hideKeysEndpoint = true
	f.mu.Unlock()
	v := mustOpen(t, f.options())
	if _, err := v.Verify(context.Background(), f.nested(t, "k1", f.claims(time.Now()), "e1", nil)); err != nil {
		t.Fatal(err)
	}
	if calls := f.calls(); len(calls) != 1 || calls[0].path != audienceKeysPath {
		t.Fatalf("audience-key requests %+v, want one to %s", calls, audienceKeysPath)
	}
}

// TestPlainTokensFetchNoDecryptionKeys: a verifier that sees only plain
// tokens never asks for decryption keys, not even on its refresh
// schedule; once it has read them, the schedule re-reads them.
func TestPlainTokensFetchNoDecryptionKeys(t *testing.T) {
	t.Parallel()
	f := newEncIssuer(t)
	o := f.options()
	o.KeyRefreshInterval = 10 * time.Millisecond
	v := mustOpen(t, o)
	ctx := context.Background()
	jwksBefore := f.hits()
	for range 5 {
		if _, err := v.Verify(ctx, f.token(t, "k1", f.claims(time.Now()), nil)); err != nil {
			t.Fatal(err)
		}
	}
	// Several refresh ticks: the signing keys are re-read, the audience's not.
	eventually(t, 5*time.Second, "signing keys refreshed", func() error {
		if f.hits() < jwksBefore+3 {
			return errSentinel("no refresh yet")
		}
		return nil
	})
	if n := len(f.calls()); n != 0 {
		t.Fatalf("%d audience-key fetches for plain tokens", n)
	}

	if _, err := v.Verify(ctx, f.nested(t, "k1", f.claims(time.Now()), "e1", nil)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "audience keys refreshed", func() error {
		if len(f.calls()) < 3 {
			return errSentinel("no refresh yet")
		}
		return nil
	})
	// A key the issuer stops serving stops decrypting once refreshed.
	f.serveEncKey("e1", false)
	eventually(t, 5*time.Second, "withdrawn decryption key refused", func() error {
		_, err := v.Verify(ctx, f.nested(t, "k1", f.claims(time.Now()), "e1", nil))
		if err == nil {
			return errSentinel("still decrypts")
		}
		wantErr(t, err, ErrUndecryptable)
		return nil
	})
}

// TestEncryptionKeyRotation: the issuer adds a key; its first token has
// an unknown kid and causes one refetch (rate-limited like the signing
// keys'), and tokens of the old key, still served, keep working.
func TestEncryptionKeyRotation(t *testing.T) {
	t.Parallel()
	f := newEncIssuer(t)
	var clock atomic.Int64
	start := time.Now()
	o := f.options()
	o.KeyRefreshInterval = time.Hour // only unknown kids cause fetches
	o.KeyRefetchInterval = 30 * time.Second
	o.Now = func() time.Time { return start.Add(time.Duration(clock.Load())) }
	v := mustOpen(t, o)
	ctx := context.Background()
	verify := func(kid string) error {
		_, err := v.Verify(ctx, f.nested(t, "k1", f.claims(start), kid, nil))
		return err
	}
	if err := verify("e1"); err != nil {
		t.Fatal(err)
	}
	f.addEncKey(t, "https://api.example", "e2", jose.ECDH_ES_A256KW, true)

	// Within the interval of the first fetch, the new kid is not fetched.
	clock.Store(int64(29 * time.Second))
	wantErr(t, verify("e2"), ErrUndecryptable)
	if n := len(f.calls()); n != 1 {
		t.Fatalf("%d fetches within the interval", n)
	}
	clock.Store(int64(30 * time.Second))
	if err := verify("e2"); err != nil {
		t.Fatalf("new key's token: %v", err)
	}
	if n := len(f.calls()); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}
	if err := verify("e1"); err != nil {
		t.Fatalf("old key's token after rotation: %v", err)
	}
	// A kid the issuer does not have is refused after its refetch.
	clock.Store(int64(60 * time.Second))
	f.addEncKey(t, "https://api.example", "e3", jose.ECDH_ES_A256KW, false)
	wantErr(t, verify("e3"), ErrUndecryptable)
	if n := len(f.calls()); n != 3 {
		t.Fatalf("%d fetches after an unknown kid, want 3", n)
	}
}

// TestKeyEndpointForbidden: a 403 from the key endpoint is an
// ErrUnavailable that says what the client lacks, for every encrypted
// token until the next allowed fetch; then, the client fixed, it works.
func TestKeyEndpointForbidden(t *testing.T) {
	t.Parallel()
	f := newEncIssuer(t)
	f.mu.Lock()
	f.keyStatus = 403
	f.mu.Unlock()
	var clock atomic.Int64
	start := time.Now()
	o := f.options()
	o.Now = func() time.Time { return start.Add(time.Duration(clock.Load())) }
	v := mustOpen(t, o)
	tok := f.nested(t, "k1", f.claims(start), "e1", nil)
	for i := range 2 {
		_, err := v.Verify(context.Background(), tok)
		wantErr(t, err, ErrUnavailable)
		for _, s := range []string{"403", "tollgate:decrypt", `"https://api.example"`, `"rs"`} {
			if !strings.Contains(err.Error(), s) {
				t.Fatalf("call %d: error %q does not mention %s", i, err, s)
			}
		}
	}
	if n := len(f.calls()); n != 1 {
		t.Fatalf("%d fetches within the refetch interval, want 1", n)
	}
	f.mu.Lock()
	f.keyStatus = 0
	f.mu.Unlock()
	clock.Store(int64(o.KeyRefetchInterval) + int64(30*time.Second))
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("after the client was fixed: %v", err)
	}
}
