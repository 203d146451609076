package verify

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/clients/internal/tollgatetest"
)

// TestIntrospectMode validates by asking a real server: the answer is
// cached briefly (one call for two verifications), a revocation shows once
// the cached answer ages out, and tokens that are not even JWTs are
// refused without a call.
func TestIntrospectMode(t *testing.T) {
	t.Parallel()
	srv := tollgatetest.Start(t)
	tap := newNetTap()
	v := openReal(t, srv, func(o *Options) {
		o.Mode, o.HTTPClient, o.IntrospectionCacheTTL = Introspect, tap.client(), 200*time.Millisecond
	})
	ctx := context.Background()
	app := srv.CreateClient(t, "--scopes", "orders:read", "--roles", "batch")
	tok := srv.Token(t, app, "")

	for range 2 {
		p, err := v.Verify(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		var raw map[string]any
		if p.Subject != app.ID || p.ClientID != app.ID || !slices.Equal(p.Scopes, []string{"orders:read"}) ||
			!slices.Equal(p.Roles, []string{"batch"}) || json.Unmarshal(p.Claims, &raw) != nil || raw["active"] != true {
			t.Fatalf("principal %+v claims %s", p, p.Claims)
		}
	}
	if n := tap.count("/oauth2/introspect"); n != 1 {
		t.Fatalf("%d introspection calls for two verifications", n)
	}

	srv.Revoke(t, app, tok)
	took := eventually(t, time.Second, "revoked token refused", func() error {
		if _, err := v.Verify(ctx, tok); !errors.Is(err, ErrInactive) {
			return errors.New("still accepted")
		}
		return nil
	})
	t.Logf("refused %s after the revocation (cache TTL 200ms)", took)

	other := srv.CreateClient(t, "--audience", "https://elsewhere.example")
	_, err := v.Verify(ctx, srv.Token(t, other, ""))
	wantErr(t, err, ErrAudience)

	calls := tap.count("/oauth2/introspect")
	_, err = v.Verify(ctx, "tgr_not-a-jwt")
	wantErr(t, err, ErrMalformed)
	if tap.count("/oauth2/introspect") != calls {
		t.Fatal("a non-JWT was sent to introspection")
	}
}

// TestOpenFailsClearly: wrong credentials or a client without the
// introspect scope make Open fail with a message that says what to fix.
func TestOpenFailsClearly(t *testing.T) {
	t.Parallel()
	srv := tollgatetest.Start(t)
	plain := srv.CreateClient(t)
	cases := []struct {
		name, id, secret, want string
	}{
		{name: "wrong secret", id: plain.ID, secret: "tgs_wrong", want: "check ClientID and ClientSecret"},
		{name: "no introspect scope", id: plain.ID, secret: plain.Secret, want: "tollgate:introspect"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Open(context.Background(), Options{Issuer: srv.URL, Audience: srv.URL, ClientID: tc.id, ClientSecret: tc.secret})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open: %v, want mention of %q", err, tc.want)
			}
		})
	}
	_, err := Open(context.Background(), Options{})
	for _, want := range []string{"Issuer", "Audience", "ClientID"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("Open with no options: %v, want mention of %s", err, want)
		}
	}
}
