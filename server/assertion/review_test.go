package assertion

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/tollgate/tollgate/store"
)

// keyServer serves a fresh one-key JWK Set and counts its hits.
func keyServer(t *testing.T, tls bool) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		pub, _, _ := ed25519.GenerateKey(rand.Reader)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: pub, KeyID: "k"}}})
	})
	srv := httptest.NewServer(h)
	if tls {
		srv.Close()
		srv = httptest.NewTLSServer(h)
	}
	t.Cleanup(srv.Close)
	return srv, &hits
}

// TestFetcherRedirectStaysPublic: a jwks_uri (or discovery document) on
// an https host must not lead the fetch to the server's own loopback or
// to an internal address by a redirect: the outcome of the fetch (status,
// timeout, refused connection) is told to whoever sent the assertion, so
// such a redirect would let a key host probe the network behind Tollgate.
func TestFetcherRedirectStaysPublic(t *testing.T) {
	t.Parallel()
	plain, plainHits := keyServer(t, false)
	internalTLS, internalHits := keyServer(t, true)
	var publicHits atomic.Int32
	public := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		publicHits.Add(1)
		switch r.URL.Path {
		case "/to-http-loopback":
			http.Redirect(w, r, plain.URL+"/jwks", http.StatusFound)
		case "/to-internal-ip":
			http.Redirect(w, r, internalTLS.URL+"/jwks", http.StatusFound)
		case "/same-host":
			http.Redirect(w, r, "/keys", http.StatusFound)
		case "/keys":
			pub, _, _ := ed25519.GenerateKey(rand.Reader)
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: pub, KeyID: "k"}}})
		case "/.well-known/openid-configuration":
			// A discovery document that moved: to a loopback address.
			http.Redirect(w, r, plain.URL+"/.well-known/openid-configuration", http.StatusFound)
		}
	}))
	t.Cleanup(public.Close)
	tests := []struct {
		path   string
		wantOK bool
	}{
		{"/to-http-loopback", false},
		{"/to-internal-ip", false},
		{"/same-host", true},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			f := NewFetcher(FetchOptions{Client: public.Client()})
			_, err := f.Keys(context.Background(), public.URL+tc.path, false)
			if (err == nil) != tc.wantOK {
				t.Fatalf("Keys(%s): err = %v, want ok %v", tc.path, err, tc.wantOK)
			}
		})
	}
	f := NewFetcher(FetchOptions{Client: public.Client()})
	if _, err := f.Discover(context.Background(), public.URL); err == nil {
		t.Fatal("discovery followed a redirect to a loopback address")
	}
	if n, m := plainHits.Load(), internalHits.Load(); n != 0 || m != 0 {
		t.Fatalf("redirects reached internal hosts: %d plain, %d TLS fetches", n, m)
	}
	if publicHits.Load() == 0 {
		t.Fatal("the public host was never asked")
	}
}

// TestRedirectAllowed: which redirects a key fetch follows.
func TestRedirectAllowed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		from, to string
		ok       bool
	}{
		{"https://keys.example/jwks", "https://cdn.example/jwks.json", true},
		{"https://keys.example/jwks", "https://keys.example/v2/jwks", true},
		{"http://127.0.0.1:9000/jwks", "http://127.0.0.1:9000/v2/jwks", true},
		{"https://keys.example/jwks", "http://keys.example/jwks", false},
		{"https://keys.example/jwks", "http://127.0.0.1:6379/", false},
		{"https://keys.example/jwks", "http://localhost:8080/admin", false},
		{"https://keys.example/jwks", "https://localhost:8443/", false},
		{"https://keys.example/jwks", "https://127.0.0.1:8443/", false},
		{"https://keys.example/jwks", "https://[::1]/", false},
		{"https://keys.example/jwks", "https://10.0.0.7/", false},
		{"https://keys.example/jwks", "https://192.168.1.1/", false},
		{"https://keys.example/jwks", "https://169.254.169.254/latest/meta-data/", false},
		{"https://keys.example/jwks", "https://[fd00::1]/", false},
		{"https://keys.example/jwks", "https://0.0.0.0/", false},
		{"http://127.0.0.1:9000/jwks", "http://127.0.0.1:6379/", false},
		{"https://10.0.0.7/jwks", "https://10.0.0.7/v2", true}, // an in-cluster host may move its own path
	}
	for _, tc := range tests {
		from, _ := url.Parse(tc.from)
		to, _ := url.Parse(tc.to)
		if err := redirectAllowed(to, from); (err == nil) != tc.ok {
			t.Errorf("redirect %s -> %s: err = %v, want ok %v", tc.from, tc.to, err, tc.ok)
		}
	}
}

// TestFetcherHangingHostOneFetch: callers queued behind a fetch that
// times out get its failure, not a fetch of their own each, even when the
// timeout (TOLLGATE_JWKS_FETCH_TIMEOUT, up to 30 s) is longer than
// MinRefresh (10 s): else N requests for a client whose key host hangs
// wait N timeouts in turn, and the host is asked N times.
func TestFetcherHangingHostOneFetch(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		select {
		case <-r.Context().Done():
		case <-hang:
		}
	}))
	t.Cleanup(func() { close(hang); srv.Close() })
	const timeout = 400 * time.Millisecond
	for _, tc := range []struct {
		name string
		call func(f *Fetcher) error
	}{
		{"keys", func(f *Fetcher) error { _, err := f.Keys(context.Background(), srv.URL+"/jwks", false); return err }},
		{"discovery", func(f *Fetcher) error { _, err := f.Discover(context.Background(), srv.URL); return err }},
	} {
		hits.Store(0)
		f := NewFetcher(FetchOptions{Timeout: timeout, MinRefresh: timeout / 4})
		start := time.Now()
		var wg sync.WaitGroup
		errs := make([]error, 3)
		for i := range errs {
			wg.Go(func() { errs[i] = tc.call(f) })
		}
		wg.Wait()
		for i, err := range errs {
			if err == nil {
				t.Fatalf("%s: caller %d got no error from a hanging host", tc.name, i)
			}
		}
		if n := hits.Load(); n != 1 {
			t.Errorf("%s: the hanging host was asked %d times by 3 concurrent callers, want 1", tc.name, n)
		}
		if d := time.Since(start); d > 2*timeout {
			t.Errorf("%s: 3 concurrent callers took %s, want about one timeout (%s)", tc.name, d, timeout)
		}
	}
}

// TestHeaderNamesCaseSensitive: JOSE header parameter names are
// case-sensitive (RFC 7515 §4, RFC 8259 §4): "KID" is not "kid". The key
// an assertion names must be the kid go-jose verifies under, not another
// one picked by encoding/json's case-insensitive field matching.
func TestHeaderNamesCaseSensitive(t *testing.T) {
	t.Parallel()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: pub, KeyID: "k"}, {Key: other, KeyID: "old"}}})
	c := &store.Client{ID: "c", AuthMethod: store.AuthPrivateKeyJWT, JWKS: set}
	v := New(Options{Audiences: []string{"a"}, Replays: memReplays{}})
	b64 := base64.RawURLEncoding.EncodeToString
	tests := []struct {
		header, want string // want: "" accepted, else a word of the error
	}{
		{`{"alg":"EdDSA","kid":"k"}`, ""},
		// Only "kid" names the key; "KID" is an unknown parameter.
		{`{"alg":"EdDSA","kid":"old","KID":"k"}`, "signature"},
		{`{"alg":"EdDSA","kid":"nope","Kid":"k"}`, "kid"},
		{`{"alg":"EdDSA","KID":"nope"}`, ""},
		// Only "alg" is the algorithm.
		{`{"alg":"EdDSA","kid":"k","ALG":"HS256"}`, ""},
		{`{"ALG":"EdDSA","kid":"k"}`, "alg"},
	}
	for i, tc := range tests {
		claims := `{"iss":"c","sub":"c","aud":"a","exp":` + strconv.FormatInt(time.Now().Add(time.Minute).Unix(), 10) + `,"jti":"j` + strconv.Itoa(i) + `"}`
		in := b64([]byte(tc.header)) + "." + b64([]byte(claims))
		raw := in + "." + b64(ed25519.Sign(priv, []byte(in)))
		err := v.Verify(context.Background(), c, raw)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("header %s: refused: %v", tc.header, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("header %s: err = %v, want one about %s", tc.header, err, tc.want)
		}
	}
}
