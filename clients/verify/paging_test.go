package verify

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestFeedFollowsPages: the issuer answers the revocation list in pages
// (next_cursor while more follow); Open reads every page before it
// returns, so a revocation on the last page already counts.
func TestFeedFollowsPages(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t)
	f.addKey(t, "k1", true)
	now := time.Now()
	const n = 7
	for i := range n {
		f.entries = append(f.entries, revocation{Seq: int64(10 + i), Kind: "token", JTI: fmt.Sprintf("j%d", i),
			RevokedAt: now.Unix(), ExpiresAt: now.Add(time.Hour).Unix()})
	}
	f.pageSize = 3
	v := mustOpen(t, f.options())
	for i := range n {
		c := f.claims(now)
		c["jti"] = fmt.Sprintf("j%d", i)
		_, err := v.Verify(context.Background(), f.token(t, "k1", c, nil))
		wantErr(t, err, ErrRevoked)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pages != 3 {
		t.Errorf("read %d pages of 3 entries for %d entries, want 3", f.pages, n)
	}
}

// TestIntrospectNodeCannotVouch: a node that cannot vouch for its
// revocation set answers 503 temporarily_unavailable, not inactive. The
// verifier asks again (behind a load balancer, another node), and when no
// answer comes it fails closed with ErrNotVouching and ErrUnavailable,
// never ErrInactive.
func TestIntrospectNodeCannotVouch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		resyncing int
		want      error
		calls     int
	}{
		{"one node resyncing, the next answers", 1, nil, 2},
		{"every answer resyncing", 100, ErrNotVouching, 1 + resyncRetries},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeIssuer(t)
			f.addKey(t, "k1", true)
			f.resyncing = tc.resyncing
			o := f.options()
			o.Mode = Introspect
			v := mustOpen(t, o)
			_, err := v.Verify(context.Background(), f.token(t, "k1", f.claims(time.Now()), nil))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
			} else {
				wantErr(t, err, tc.want)
				wantErr(t, err, ErrUnavailable)
				if errors.Is(err, ErrInactive) {
					t.Errorf("Verify: %v, which says the token is bad", err)
				}
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.introspections != tc.calls {
				t.Errorf("%d introspection calls, want %d", f.introspections, tc.calls)
			}
		})
	}
}
