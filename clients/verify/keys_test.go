package verify

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// TestUnknownKidRefetchIsRateLimited: tokens with kids the verifier does
// not know cause at most one key-set fetch per KeyRefetchInterval, however
// many arrive, and a key published meanwhile is found at the next allowed
// fetch.
func TestUnknownKidRefetchIsRateLimited(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t)
	f.addKey(t, "k1", true)
	f.addKey(t, "k2", false)
	var clock atomic.Int64
	start := time.Now()
	o := f.options()
	o.KeyRefetchInterval = 30 * time.Second
	o.Now = func() time.Time { return start.Add(time.Duration(clock.Load())) }
	v := mustOpen(t, o)
	ctx := context.Background()
	if n := f.hits(); n != 1 {
		t.Fatalf("%d fetches at Open", n)
	}

	// Open's fetch counts: the interval runs from it.
	clock.Store(int64(30 * time.Second))
	tok := f.token(t, "k2", f.claims(start), nil)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := v.Verify(ctx, tok); err == nil {
				t.Error("token of an unpublished key accepted")
			}
		})
	}
	wg.Wait()
	if n := f.hits(); n != 2 {
		t.Fatalf("%d fetches after 20 unknown-kid tokens, want 2", n)
	}

	f.publish("k2", true)
	clock.Store(int64(59 * time.Second))
	_, err := v.Verify(ctx, tok)
	wantErr(t, err, ErrUnknownKey)
	if n := f.hits(); n != 2 {
		t.Fatalf("refetched within the interval: %d fetches", n)
	}
	clock.Store(int64(60 * time.Second))
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("after the interval: %v", err)
	}
	if n := f.hits(); n != 3 {
		t.Fatalf("%d fetches, want 3", n)
	}
}

// TestWithdrawnKeyLeavesTheCache: when the issuer stops publishing a key,
// tokens it signed are refused even though they were verified before.
func TestWithdrawnKeyLeavesTheCache(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t)
	f.addKey(t, "k1", true)
	f.addKey(t, "k2", true)
	o := f.options()
	o.KeyRefreshInterval = 20 * time.Millisecond
	v := mustOpen(t, o)
	tok := f.token(t, "k1", f.claims(time.Now()), nil)
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	f.publish("k1", false)
	eventually(t, 5*time.Second, "withdrawn key's token refused", func() error {
		_, err := v.Verify(context.Background(), tok)
		if err == nil {
			return errSentinel("still accepted")
		}
		return nil
	})
}

type errSentinel string

func (e errSentinel) Error() string { return string(e) }

// TestHeaderAndClaimRules covers the rules a real server never breaks,
// with tokens signed by a published key.
func TestHeaderAndClaimRules(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t)
	f.addKey(t, "k1", true)
	v := mustOpen(t, f.options())
	// Claims are made when each case runs: parallel cases may wait.
	with := func(k string, val func(now time.Time) any) func(time.Time) map[string]any {
		return func(now time.Time) map[string]any {
			c := f.claims(now)
			if val == nil {
				delete(c, k)
			} else {
				c[k] = val(now)
			}
			return c
		}
	}
	valid := f.claims
	fixed := func(v any) func(time.Time) any { return func(time.Time) any { return v } }
	cases := []struct {
		name   string
		claims func(time.Time) map[string]any
		edit   func(*jose.SignerOptions)
		want   error // nil: accepted
	}{
		{name: "valid", claims: valid},
		{name: "typ application/at+jwt", claims: valid, edit: func(o *jose.SignerOptions) { o.WithType("application/AT+JWT") }},
		{name: "aud array", claims: with("aud", fixed([]string{"other", "https://api.example"}))},
		{name: "typ missing", claims: valid, edit: func(o *jose.SignerOptions) { delete(o.ExtraHeaders, jose.HeaderType) }, want: ErrType},
		{name: "typ JWT", claims: valid, edit: func(o *jose.SignerOptions) { o.WithType("JWT") }, want: ErrType},
		{name: "crit", claims: valid, edit: func(o *jose.SignerOptions) { o.WithHeader("exp", 1).WithCritical("exp") }, want: ErrMalformed},
		{name: "alg ES256 on an EdDSA key", claims: valid, edit: func(o *jose.SignerOptions) { o.WithHeader("alg", "ES256") }, want: ErrAlgorithm},
		{name: "no jti", claims: with("jti", nil), want: ErrMalformed},
		{name: "no client_id", claims: with("client_id", nil), want: ErrMalformed},
		{name: "no exp", claims: with("exp", nil), want: ErrMalformed},
		{name: "string exp", claims: with("exp", fixed("tomorrow")), want: ErrMalformed},
		{name: "nbf in the future", claims: with("nbf", func(now time.Time) any { return now.Add(time.Minute).Unix() }), want: ErrNotYetValid},
		{name: "nbf within leeway", claims: with("nbf", func(now time.Time) any { return now.Add(5 * time.Second).Unix() })},
		{name: "exp within leeway", claims: with("exp", func(now time.Time) any { return now.Add(-5 * time.Second).Unix() })},
		{name: "wrong audience", claims: with("aud", fixed("https://other.example")), want: ErrAudience},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tok := f.token(t, "k1", tc.claims(time.Now()), tc.edit)
			_, err := v.Verify(context.Background(), tok)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			wantErr(t, err, tc.want)
		})
	}
}
