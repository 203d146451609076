package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/tollgate/tollgate/clients/tokensource"
	"github.com/tollgate/tollgate/clients/verify"
)

// The audiences of the SDK end-to-end test: ordersAPI and billingAPI
// receive encrypted tokens, catalogAPI plain ones.
const (
	ordersAPI  = "https://orders.example"
	billingAPI = "https://billing.example"
	catalogAPI = "https://catalog.example"
)

// verifyEnv is a started Tollgate set up with the CLI as an operator
// would: the encrypted audience ordersAPI; orders, its resource server
// (tollgate:introspect and tollgate:decrypt); catalog, the resource server
// of the plain catalogAPI (tollgate:introspect only); caller, a client of
// ordersAPI and catalogAPI with a public and a private claim.
type verifyEnv struct {
	*testEnv
	orders, catalog, caller cred
}

func newVerifyEnv(t *testing.T, b backend) *verifyEnv {
	t.Helper()
	e := &verifyEnv{testEnv: newTestEnv(t, b)}
	e.mustCLI("", "audience", "create", ordersAPI, "--encrypt")
	e.mustCLI("", "audience", "create", billingAPI, "--encrypt")
	newCred := func(args ...string) cred {
		id, secret := e.newClient(args...)
		return cred{id, secret}
	}
	e.orders = newCred("--name", "orders-api", "--scopes", "tollgate:introspect tollgate:decrypt", "--audience", ordersAPI)
	e.catalog = newCred("--name", "catalog-api", "--scopes", "tollgate:introspect", "--audience", catalogAPI)
	e.caller = newCred("--name", "caller", "--scopes", "orders:read", "--audience", ordersAPI+","+catalogAPI,
		"--claim", "tenant=acme", "--private-claim", "email=ops@acme.example")
	e.start()
	return e
}

// sdkToken gets a new token for aud with clients/tokensource, as a Go
// caller would (a new Source each time, so never a cached token).
func (e *verifyEnv) sdkToken(t *testing.T, aud string) string {
	t.Helper()
	src, err := tokensource.NewClientCredentials(t.Context(), tokensource.ClientCredentials{
		TokenURL: e.vars["TOLLGATE_ISSUER"] + "/oauth2/token",
		ClientID: e.caller.id, ClientSecret: e.caller.secret, Audience: aud,
	})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := src.Token()
	if err != nil {
		t.Fatalf("token for %s: %v", aud, err)
	}
	return tok.AccessToken
}

// openVerifier opens clients/verify for aud with c's credentials.
func (e *verifyEnv) openVerifier(t *testing.T, mode verify.Mode, aud string, c cred) *verify.Verifier {
	t.Helper()
	v, err := verify.Open(context.Background(), verify.Options{
		Issuer: e.vars["TOLLGATE_ISSUER"], Audience: aud, ClientID: c.id, ClientSecret: c.secret, Mode: mode,
		// Introspect mode: a revocation is noticed once the cached answer
		// is stale; keep that short.
		IntrospectionCacheTTL: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("verify.Open(%s): %v", aud, err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// claimsMap decodes Principal.Claims.
func claimsMap(t *testing.T, p *verify.Principal) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(p.Claims, &m); err != nil {
		t.Fatalf("Principal.Claims %q: %v", p.Claims, err)
	}
	return m
}

// TestEncryptedVerify: our own SDK end to end. A caller gets a token for
// the encrypted audience through golang.org/x/oauth2; the resource
// server's clients/verify accepts the JWE (Local mode: it fetches its
// audience's keys and decrypts; Introspect mode: Tollgate decrypts) as
// Encrypted, with the caller's claims, the private one included in Local
// mode; the same caller's token for the plain audience verifies there,
// unencrypted and without the private claim; each verifier refuses the
// other's token; once the JWE is revoked (RFC 7009) the verifier refuses
// it.
func TestEncryptedVerify(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			e := newVerifyEnv(t, b)
			for _, tc := range []struct {
				name string
				mode verify.Mode
				// claims: Principal.Claims is the payload as signed (Local),
				// or the introspection answer, which carries no claim of
				// the subject's.
				claims bool
				// revoked is the error a revoked token gets.
				revoked error
			}{
				{"local", verify.Local, true, verify.ErrRevoked},
				{"introspect", verify.Introspect, false, verify.ErrInactive},
			} {
				t.Run(tc.name, func(t *testing.T) {
					orders := e.openVerifier(t, tc.mode, ordersAPI, e.orders)
					catalog := e.openVerifier(t, tc.mode, catalogAPI, e.catalog)
					jwe, jws := e.sdkToken(t, ordersAPI), e.sdkToken(t, catalogAPI)
					if strings.Count(jwe, ".") != 4 || strings.Count(jws, ".") != 2 {
						t.Fatalf("token shapes: %d and %d dots, want a JWE and a JWS", strings.Count(jwe, "."), strings.Count(jws, "."))
					}
					p := e.checkEncrypted(t, orders, jwe, tc.claims)
					e.checkPlain(t, catalog, jws, tc.claims)
					e.checkCrossed(t, orders, catalog, jwe, jws, tc.mode)
					e.checkRevoked(t, orders, jwe, p.ID, tc.revoked)
					// Revocation is by jti: the caller's other token stands.
					if _, err := catalog.Verify(context.Background(), jws); err != nil {
						t.Errorf("the plain token after the JWE's revocation: %v", err)
					}
				})
			}
			t.Run("audience-keys wire", func(t *testing.T) { e.checkAudienceKeysWire(t) })
		})
	}
}

// checkEncrypted verifies the JWE with the orders verifier.
func (e *verifyEnv) checkEncrypted(t *testing.T, v *verify.Verifier, jwe string, claims bool) *verify.Principal {
	t.Helper()
	p, err := v.Verify(context.Background(), jwe)
	if err != nil {
		t.Fatalf("Verify(JWE): %v", err)
	}
	if !p.Encrypted || p.Subject != e.caller.id || p.ClientID != e.caller.id ||
		!slices.Equal(p.Audience, []string{ordersAPI}) || !p.HasScope("orders:read") || p.ID == "" {
		t.Errorf("Principal of the JWE: %+v", p)
	}
	m := claimsMap(t, p)
	if m["jti"] != p.ID || m["client_id"] != e.caller.id {
		t.Errorf("Claims %s", p.Claims)
	}
	if claims && (m["tenant"] != "acme" || m["email"] != "ops@acme.example") {
		t.Errorf("Claims of the JWE lack tenant or the private email: %s", p.Claims)
	}
	// Answered from the cache now, still as encrypted.
	if p2, err := v.Verify(context.Background(), jwe); err != nil || !p2.Encrypted || p2.ID != p.ID {
		t.Errorf("second Verify(JWE): %+v, %v", p2, err)
	}
	return p
}

// checkPlain verifies the plain-audience token with the catalog verifier.
func (e *verifyEnv) checkPlain(t *testing.T, v *verify.Verifier, jws string, claims bool) {
	t.Helper()
	p, err := v.Verify(context.Background(), jws)
	if err != nil {
		t.Fatalf("Verify(plain): %v", err)
	}
	if p.Encrypted || p.Subject != e.caller.id || !slices.Equal(p.Audience, []string{catalogAPI}) {
		t.Errorf("Principal of the plain token: %+v", p)
	}
	m := claimsMap(t, p)
	if _, ok := m["email"]; ok {
		t.Errorf("the private claim is in a plain token's claims: %s", p.Claims)
	}
	if claims && m["tenant"] != "acme" {
		t.Errorf("the public claim is missing from the plain token: %s", p.Claims)
	}
	if strings.Contains(string(p.Claims), "ops@acme.example") {
		t.Errorf("the private claim's value is in %s", p.Claims)
	}
}

// checkCrossed gives each verifier the other audience's token. The
// catalog resource server has no tollgate:decrypt: in Local mode it
// cannot read the orders keys (403, ErrUnavailable, as documented); in
// Introspect mode Tollgate decrypts and the audience check refuses it.
func (e *verifyEnv) checkCrossed(t *testing.T, orders, catalog *verify.Verifier, jwe, jws string, mode verify.Mode) {
	t.Helper()
	ctx := context.Background()
	if _, err := orders.Verify(ctx, jws); !errors.Is(err, verify.ErrAudience) {
		t.Errorf("orders verifier, catalog token: %v, want ErrAudience", err)
	}
	want := verify.ErrUnavailable
	if mode == verify.Introspect {
		want = verify.ErrAudience
	}
	if _, err := catalog.Verify(ctx, jwe); !errors.Is(err, want) {
		t.Errorf("catalog verifier, orders JWE: %v, want %v", err, want)
	}
}

// checkRevoked revokes the JWE as its holder would (RFC 7009 §2.1: the
// client it was issued to) and waits until the verifier refuses it: the
// feed delivers the jti in Local mode, a new introspection answers
// inactive in Introspect mode.
func (e *verifyEnv) checkRevoked(t *testing.T, v *verify.Verifier, jwe, jti string, want error) {
	t.Helper()
	if r := e.revoke(e.caller.id, e.caller.secret, jwe); r.status != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.status, r.raw)
	}
	var last error
	if !eventually(5*time.Second, func() bool {
		_, last = v.Verify(context.Background(), jwe)
		return errors.Is(last, want)
	}) {
		t.Fatalf("the revoked JWE (jti %s): %v, want %v", jti, last, want)
	}
	if r := e.introspect(e.orders.id, e.orders.secret, jwe); r.raw != `{"active":false}` {
		t.Errorf("introspection after revocation: %s", r.raw)
	}
}

// checkAudienceKeysWire: clients/verify asks for its audience's keys with
// audience=X in the query of a GET (HTTP Basic) or, authenticating with
// a client assertion, in the form body of a POST (audiencekeys.go call).
// The server must read X from the same places. Both clients here have two
// encrypted audiences, so only an answer narrowed to X, or access_denied
// for an audience not among them, shows that X was read.
func (e *verifyEnv) checkAudienceKeysWire(t *testing.T) {
	kidsOf := func(auds ...string) []string {
		var kids []string
		for _, a := range auds {
			for _, k := range e.svc.ring.Keys(a) {
				kids = append(kids, k.ID)
			}
		}
		slices.Sort(kids)
		return kids
	}
	both := ordersAPI + "," + billingAPI
	id, secret := e.newClient("--name", "keys-basic", "--scopes", "tollgate:decrypt", "--audience", both)
	key := newEd25519Key(t, "keys-pkjwt-1")
	keyID := e.createKeyClient("keys-pkjwt", "--scopes", "tollgate:decrypt", "--audience", both,
		"--jwks-file", writeFile(t, "jwks.json", jwks(t, key)))
	iss := e.vars["TOLLGATE_ISSUER"]
	for _, tc := range []struct {
		name string
		aud  string
		kids []string // nil: 403 access_denied
	}{
		{"one encrypted audience", ordersAPI, kidsOf(ordersAPI)},
		{"no audience parameter", "", kidsOf(ordersAPI, billingAPI)},
		{"a plain audience", catalogAPI, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			query := ""
			// The form verify's POST sends.
			form := url.Values{"client_assertion_type": {jwtBearer}, "client_assertion": {key.sign(t, assertionClaims(keyID, iss))}}
			if tc.aud != "" {
				query = "?audience=" + url.QueryEscape(tc.aud)
				form.Set("audience", tc.aud)
			}
			_, get := e.audienceKeys(cred{id, secret}, query)
			post := e.post("/oauth2/audience-keys", form, nil)
			for name, r := range map[string]response{"GET": get, "POST": post} {
				if tc.kids == nil {
					if r.status != http.StatusForbidden || r.body["error"] != "access_denied" {
						t.Errorf("%s: %d %s, want 403 access_denied", name, r.status, r.raw)
					}
					continue
				}
				var set jose.JSONWebKeySet
				_ = json.Unmarshal([]byte(r.raw), &set)
				var kids []string
				for _, k := range set.Keys {
					kids = append(kids, k.KeyID)
				}
				slices.Sort(kids)
				if r.status != http.StatusOK || len(tc.kids) == 0 || !slices.Equal(kids, tc.kids) {
					t.Errorf("%s: %d, kids %v, want %v", name, r.status, kids, tc.kids)
				}
			}
		})
	}
}
