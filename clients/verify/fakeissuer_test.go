package verify

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// fakeIssuer is a hand-written issuer for what a real Tollgate cannot be
// made to do: sign with keys it does not publish, publish keys with
// made-up kids, sign odd headers, or misbehave on the feed. It speaks
// Tollgate's wire formats (metadata, JWKS, feed and SSE stream).
type fakeIssuer struct {
	srv *httptest.Server

	mu         sync.Mutex
	keys       map[string]crypto.Signer // kid → key
	published  map[string]bool
	jwksHits   int
	entries    []revocation
	streams    int
	lastIDs    []string    // Last-Event-ID of each stream request
	events     chan string // raw SSE text to send on the open stream
	dropStream chan struct{}
	silent     bool // streams send nothing at all
	pageSize   int  // entries per feed page, as Tollgate's ?limit= (0: all)
	pages      int  // feed pages served
	// resyncing is how many introspection calls are answered 503
	// temporarily_unavailable (a node that cannot vouch) before the
	// token is described as active; introspections counts the calls.
	resyncing      int
	introspections int
	introspected   []string // the tokens introspection was asked about

	// The audience-keys endpoint (fakeaudience_test.go).
	encKeys  map[string]*encKey
	keyCalls []keyCall
	// keyStatus, if set, is the key endpoint's answer (403: the client
	// lacks tollgate:decrypt).
	keyStatus int
	// hideKeysEndpoint leaves audience_keys_endpoint out of the metadata.
	hideKeysEndpoint bool
}

func newFakeIssuer(t testing.TB) *fakeIssuer {
	f := &fakeIssuer{
		keys: map[string]crypto.Signer{}, published: map[string]bool{}, encKeys: map[string]*encKey{},
		events: make(chan string, 16), dropStream: make(chan struct{}, 1),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", func(w http.ResponseWriter, r *http.Request) {
		u := f.srv.URL
		m := map[string]string{
			"issuer": u, "jwks_uri": u + "/.well-known/jwks.json", "introspection_endpoint": u + "/oauth2/introspect",
			"revocation_feed_endpoint": u + "/oauth2/revocations", "revocation_feed_stream_endpoint": u + "/oauth2/revocations/stream",
		}
		f.mu.Lock()
		if !f.hideKeysEndpoint {
			// Not Tollgate's path, so that a test sees which one was used.
			m["audience_keys_endpoint"] = u + namedKeysPath
		}
		f.mu.Unlock()
		writeJSON(w, m)
	})
	mux.HandleFunc(namedKeysPath, f.audienceKeys)
	mux.HandleFunc(audienceKeysPath, f.audienceKeys)
	mux.HandleFunc("GET /.well-known/jwks.json", f.jwks)
	mux.HandleFunc("GET /oauth2/revocations", f.list)
	mux.HandleFunc("GET /oauth2/revocations/stream", f.stream)
	mux.HandleFunc("POST /oauth2/introspect", f.introspect)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		f.srv.CloseClientConnections()
		f.srv.Close()
	})
	return f
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// addKey makes an Ed25519 key, published or not.
func (f *fakeIssuer) addKey(t testing.TB, kid string, publish bool) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys[kid], f.published[kid] = priv, publish
}

func (f *fakeIssuer) publish(kid string, on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.published[kid] = on
}

func (f *fakeIssuer) hits() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.jwksHits
}

func (f *fakeIssuer) jwks(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.jwksHits++
	var set jose.JSONWebKeySet
	for kid, k := range f.keys {
		if f.published[kid] {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.Public(), KeyID: kid, Algorithm: string(jose.EdDSA), Use: "sig"})
		}
	}
	writeJSON(w, set)
}

func (f *fakeIssuer) list(w http.ResponseWriter, r *http.Request) {
	after, _ := strconv.ParseInt(r.URL.Query().Get("cursor"), 10, 64)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pages++
	out, cursor, more := []revocation{}, after, false
	for _, e := range f.entries {
		if e.Seq <= after {
			continue
		}
		if f.pageSize > 0 && len(out) == f.pageSize {
			more = true
			break
		}
		out = append(out, e)
		cursor = max(cursor, e.Seq)
	}
	doc := map[string]any{"revocations": out, "cursor": strconv.FormatInt(cursor, 10)}
	if more {
		doc["next_cursor"] = strconv.FormatInt(cursor, 10)
	}
	writeJSON(w, doc)
}

// introspect answers as a Tollgate node that cannot vouch for its
// revocation set while f.resyncing lasts, then as one that can.
func (f *fakeIssuer) introspect(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f.mu.Lock()
	f.introspections++
	f.introspected = append(f.introspected, r.PostForm.Get("token"))
	busy := f.introspections <= f.resyncing
	f.mu.Unlock()
	if busy {
		w.Header().Set("Retry-After", "1")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"error":"temporarily_unavailable","error_description":"this node cannot vouch for its revocation set right now"}`)
		return
	}
	now := time.Now()
	writeJSON(w, map[string]any{
		"active": true, "iss": f.srv.URL, "sub": "tgc_app", "client_id": "tgc_app", "aud": "https://api.example",
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "jti": "j", "token_type": "Bearer", "token_use": "access_token",
	})
}

// stream records the Last-Event-ID, then relays f.events until told to
// drop the connection.
func (f *fakeIssuer) stream(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.streams++
	f.lastIDs = append(f.lastIDs, r.Header.Get("Last-Event-ID"))
	silent := f.silent
	f.mu.Unlock()
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	w.(http.Flusher).Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-f.dropStream:
			return
		case ev := <-f.events:
			if silent {
				continue
			}
			fmt.Fprint(w, ev)
			w.(http.Flusher).Flush()
		}
	}
}

// token signs claims with kid's key; edit may change the header.
func (f *fakeIssuer) token(t testing.TB, kid string, claims map[string]any, edit func(*jose.SignerOptions)) string {
	t.Helper()
	f.mu.Lock()
	key := f.keys[kid]
	f.mu.Unlock()
	opts := (&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", kid)
	if edit != nil {
		edit(opts)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// claims are valid claims for the fake issuer, issued now.
func (f *fakeIssuer) claims(now time.Time) map[string]any {
	return map[string]any{
		"iss": f.srv.URL, "sub": "tgc_app", "client_id": "tgc_app", "aud": "https://api.example",
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "jti": "jti-" + strconv.FormatInt(now.UnixNano(), 36),
		"scope": "a b",
	}
}

// options for a verifier of the fake issuer.
func (f *fakeIssuer) options() Options {
	return Options{Issuer: f.srv.URL, Audience: "https://api.example", ClientID: "rs", ClientSecret: "secret"}
}
