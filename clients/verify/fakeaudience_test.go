package verify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// namedKeysPath is where the fake issuer's metadata says the audience
// keys are; it serves them at Tollgate's audienceKeysPath too.
const namedKeysPath = "/named/audience-keys"

// encKey is one of the fake issuer's audience keys.
type encKey struct {
	aud, kid string
	alg      jose.KeyAlgorithm
	priv     any // *ecdsa.PrivateKey or *rsa.PrivateKey
	pub      any
	served   bool
}

// keyCall is one request to the audience-keys endpoint, as received.
type keyCall struct {
	method, path         string
	user, pass, audience string
	assertionType        string
	assertion            string
}

// addEncKey makes a P-256 (ECDH-ES+A256KW) or RSA 2048 (RSA-OAEP-256) key
// for aud, served or not.
func (f *fakeIssuer) addEncKey(t testing.TB, aud, kid string, alg jose.KeyAlgorithm, served bool) {
	t.Helper()
	k := &encKey{aud: aud, kid: kid, alg: alg, served: served}
	switch alg {
	case jose.ECDH_ES_A256KW:
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		k.priv, k.pub = priv, &priv.PublicKey
	case jose.RSA_OAEP_256:
		priv, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		k.priv, k.pub = priv, &priv.PublicKey
	default:
		t.Fatalf("no key for %s", alg)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.encKeys[kid] = k
}

func (f *fakeIssuer) serveEncKey(kid string, on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.encKeys[kid].served = on
}

func (f *fakeIssuer) encKey(kid string) *encKey {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.encKeys[kid]
}

// calls returns the requests the audience-keys endpoint received.
func (f *fakeIssuer) calls() []keyCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]keyCall(nil), f.keyCalls...)
}

// audienceKeys serves the private JWKs of the audience asked for, as
// Tollgate's endpoint does: GET with HTTP Basic or POST with a client
// assertion, Cache-Control no-store. Every request is recorded.
func (f *fakeIssuer) audienceKeys(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	c := keyCall{method: r.Method, path: r.URL.Path, audience: r.Form.Get("audience"),
		assertionType: r.PostForm.Get("client_assertion_type"), assertion: r.PostForm.Get("client_assertion")}
	if u, p, ok := r.BasicAuth(); ok {
		c.user, _ = url.QueryUnescape(u)
		c.pass, _ = url.QueryUnescape(p)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keyCalls = append(f.keyCalls, c)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.Header().Set("Content-Type", "application/json")
	switch {
	case c.assertion == "" && (c.user != "rs" || c.pass != "secret"):
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
		return
	case f.keyStatus != 0:
		w.WriteHeader(f.keyStatus)
		_, _ = w.Write([]byte(`{"error":"insufficient_scope","error_description":"the client does not hold tollgate:decrypt"}`))
		return
	}
	var set jose.JSONWebKeySet
	for _, k := range f.encKeys {
		if k.served && k.aud == c.audience {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.priv, KeyID: k.kid, Algorithm: string(k.alg), Use: "enc"})
		}
	}
	_ = json.NewEncoder(w).Encode(set)
}

// nested signs claims with signKid's key (at+jwt), then encrypts the JWS
// to the audience key encKid as Tollgate does (cty JWT, kid, A256GCM).
// edit may change the encryption options.
func (f *fakeIssuer) nested(t testing.TB, signKid string, claims map[string]any, encKid string, edit func(*jose.EncrypterOptions)) string {
	t.Helper()
	k := f.encKey(encKid)
	return encryptJWS(t, f.token(t, signKid, claims, nil), jose.Recipient{Algorithm: k.alg, Key: k.pub, KeyID: encKid}, jose.A256GCM, edit)
}

// encryptJWS wraps inner in a compact JWE for rcpt.
func encryptJWS(t testing.TB, inner string, rcpt jose.Recipient, enc jose.ContentEncryption, edit func(*jose.EncrypterOptions)) string {
	t.Helper()
	opts := (&jose.EncrypterOptions{}).WithContentType("JWT")
	if edit != nil {
		edit(opts)
	}
	e, err := jose.NewEncrypter(enc, rcpt, opts)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := e.Encrypt([]byte(inner))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
