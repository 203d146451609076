package verify

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tollgate/tollgate/clients/internal/tollgatetest"
)

// TestFeedLossFailsClosed kills the real server under a verifier: once the
// feed has been gone longer than MaxFeedGap, tokens issued before the loss
// are refused; a revocation made while the verifier was cut off is
// applied on reconnection, and the rest are accepted again.
func TestFeedLossFailsClosed(t *testing.T) {
	t.Parallel()
	srv := tollgatetest.Start(t)
	v := openReal(t, srv, func(o *Options) { o.MaxFeedGap = 500 * time.Millisecond })
	ctx := context.Background()
	kept, doomed := srv.CreateClient(t), srv.CreateClient(t)
	keptTok, doomedTok := srv.Token(t, kept, ""), srv.Token(t, doomed, "")
	for _, tok := range []string{keptTok, doomedTok} {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}

	srv.Kill()
	eventually(t, 5*time.Second, "fail closed", func() error {
		_, err := v.Verify(ctx, keptTok)
		if errors.Is(err, ErrFeedLost) {
			return nil
		}
		return errors.New("still accepted")
	})
	if v.Ready() == nil {
		t.Fatal("Ready reports no problem while the feed is lost")
	}

	// While the verifier cannot hear it, a client's tokens are revoked.
	srv.CLI(t, "", "revoke", "--client", doomed.ID)
	srv.Restart()
	eventually(t, 10*time.Second, "accepted again after reconnection", func() error {
		_, err := v.Verify(ctx, keptTok)
		return err
	})
	if err := v.Ready(); err != nil {
		t.Fatalf("Ready after reconnection: %v", err)
	}
	_, err := v.Verify(ctx, doomedTok)
	wantErr(t, err, ErrRevoked)
}

// TestFeedCut cuts only the feed (introspection still reaches the
// issuer) and checks both policies: fail closed refuses tokens from before
// the cut but accepts tokens issued since; the fallback asks introspection,
// which knows about revocations the feed could not deliver.
func TestFeedCut(t *testing.T) {
	t.Parallel()
	srv := tollgatetest.Start(t)
	ctx := context.Background()
	c := srv.CreateClient(t)

	open := func(t *testing.T, policy GapPolicy) (*Verifier, *netTap) {
		tap := newNetTap()
		v := openReal(t, srv, func(o *Options) {
			o.HTTPClient, o.OnFeedGap = tap.client(), policy
			o.MaxFeedGap, o.Leeway = 300*time.Millisecond, time.Second
		})
		return v, tap
	}
	cut := func(t *testing.T, v *Verifier, tap *netTap) {
		tap.Cut()
		eventually(t, 5*time.Second, "feed loss noticed", notReady(v))
	}

	t.Run("fail closed", func(t *testing.T) {
		t.Parallel()
		v, tap := open(t, FailClosed)
		before := srv.Token(t, c, "")
		if _, err := v.Verify(ctx, before); err != nil {
			t.Fatal(err)
		}
		cut(t, v, tap)
		_, err := v.Verify(ctx, before)
		wantErr(t, err, ErrFeedLost)
		// iat has whole seconds, and the rule allows Leeway of skew.
		time.Sleep(2100 * time.Millisecond)
		after := srv.Token(t, c, "")
		if _, err := v.Verify(ctx, after); err != nil {
			t.Fatalf("token issued after the loss: %v", err)
		}
		tap.Mend()
		eventually(t, 10*time.Second, "feed restored", func() error {
			_, err := v.Verify(ctx, before)
			return err
		})
	})
	t.Run("fall back to introspection", func(t *testing.T) {
		t.Parallel()
		v, tap := open(t, FallBackToIntrospection)
		good, bad := srv.Token(t, c, ""), srv.Token(t, c, "")
		for _, tok := range []string{good, bad} {
			if _, err := v.Verify(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
		cut(t, v, tap)
		srv.Revoke(t, c, bad) // the feed cannot tell the verifier
		if _, err := v.Verify(ctx, good); err != nil {
			t.Fatalf("unrevoked token during the cut: %v", err)
		}
		_, err := v.Verify(ctx, bad)
		wantErr(t, err, ErrInactive)
		if n := tap.count("/oauth2/introspect"); n != 2 {
			t.Fatalf("%d introspection calls, want 2", n)
		}
	})
}

// notReady adapts Ready for eventually: it succeeds once Ready fails.
func notReady(v *Verifier) func() error {
	return func() error {
		if v.Ready() == nil {
			return errors.New("ready")
		}
		return nil
	}
}
