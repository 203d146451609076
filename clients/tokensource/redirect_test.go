package tokensource

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestRedirectNotFollowed: a token endpoint that answers 307 or 308 does
// not get the request's credentials sent on to the address it names.
func TestRedirectNotFollowed(t *testing.T) {
	t.Parallel()
	for _, code := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect, http.StatusFound} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			t.Parallel()
			var reached atomic.Int32
			elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				reached.Add(1)
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{"access_token":"x","token_type":"Bearer","expires_in":300}`))
			}))
			t.Cleanup(elsewhere.Close)
			redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, elsewhere.URL+"/oauth2/token", code)
			}))
			t.Cleanup(redirecting.Close)
			src, err := NewAPIKey(context.Background(), APIKey{TokenURL: redirecting.URL + "/oauth2/token", Key: "tgk_secret"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = src.Token()
			if err == nil || !strings.Contains(err.Error(), "redirected to "+elsewhere.URL) {
				t.Errorf("err = %v, want one naming the redirect", err)
			}
			if n := reached.Load(); n != 0 {
				t.Errorf("the redirect target got %d requests", n)
			}
		})
	}
}

// TestRedirectCallersPolicy: a caller's own CheckRedirect is kept, and the
// caller's client is not changed.
func TestRedirectCallersPolicy(t *testing.T) {
	t.Parallel()
	mine := &http.Client{}
	src, err := NewAPIKey(context.Background(), APIKey{TokenURL: "https://auth.example/oauth2/token", Key: "tgk_x", Options: Options{HTTPClient: mine}})
	if err != nil {
		t.Fatal(err)
	}
	if mine.CheckRedirect != nil {
		t.Error("the caller's client was changed")
	}
	if src.o.HTTPClient.CheckRedirect == nil {
		t.Error("the Source's copy follows redirects")
	}
	follow := func(*http.Request, []*http.Request) error { return nil }
	src, _ = NewAPIKey(context.Background(), APIKey{TokenURL: "https://auth.example/oauth2/token", Key: "tgk_x", Options: Options{HTTPClient: &http.Client{CheckRedirect: follow}}})
	if src.o.HTTPClient.CheckRedirect == nil || src.o.HTTPClient.CheckRedirect(nil, nil) != nil {
		t.Error("the caller's own CheckRedirect was replaced")
	}
}
