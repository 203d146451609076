package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/gin-gonic/gin"
	"github.com/go-jose/go-jose/v4"

	"github.com/tollgate/tollgate/clients/dpop"
	"github.com/tollgate/tollgate/server/admin"
	"github.com/tollgate/tollgate/server/assertion"
	"github.com/tollgate/tollgate/server/introspection"
	"github.com/tollgate/tollgate/server/keys"
	"github.com/tollgate/tollgate/server/registry"
	"github.com/tollgate/tollgate/store"
)

// loadOpenAPI parses the embedded document and validates it as OpenAPI
// 3.1, examples and formats included.
func loadOpenAPI(t testing.TB) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(OpenAPI())
	if err != nil {
		t.Fatalf("openapi.json does not load: %v", err)
	}
	if doc.OpenAPI != "3.1.0" || !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi.json declares OpenAPI %q, want 3.1.0", doc.OpenAPI)
	}
	err = doc.Validate(context.Background(), openapi3.EnableExamplesValidation(), openapi3.EnableSchemaFormatValidation(), openapi3.EnableMultiError())
	if err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI 3.1 document:\n%v", err)
	}
	return doc
}

// routeEngine builds every route, the optional ones included: the admin
// API and /metrics. The handlers are not called, so no dependency is
// needed.
func routeEngine(t *testing.T) *gin.Engine {
	t.Helper()
	e, ok := New(Deps{Admin: &admin.Deps{}, MetricsRoute: true}).(*gin.Engine)
	if !ok {
		t.Fatal("New does not return a *gin.Engine")
	}
	return e
}

// servedOperations lists the engine's routes as "METHOD /path", with Gin's
// :param and *param written as OpenAPI's {param}.
func servedOperations(r *gin.Engine) []string {
	var ops []string
	for _, rt := range r.Routes() {
		segs := strings.Split(rt.Path, "/")
		for i, s := range segs {
			if strings.HasPrefix(s, ":") || strings.HasPrefix(s, "*") {
				segs[i] = "{" + s[1:] + "}"
			}
		}
		ops = append(ops, rt.Method+" "+strings.Join(segs, "/"))
	}
	slices.Sort(ops)
	return ops
}

// documentedOperations lists the document's operations as "METHOD /path".
func documentedOperations(doc *openapi3.T) []string {
	var ops []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			ops = append(ops, method+" "+path)
		}
	}
	slices.Sort(ops)
	return ops
}

// operationDiff returns the served operations the document lacks and the
// documented operations nothing serves.
func operationDiff(served, documented []string) (undocumented, unserved []string) {
	for _, op := range served {
		if !slices.Contains(documented, op) {
			undocumented = append(undocumented, op)
		}
	}
	for _, op := range documented {
		if !slices.Contains(served, op) {
			unserved = append(unserved, op)
		}
	}
	return undocumented, unserved
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc := loadOpenAPI(t)
	if doc.Info.Title != "Tollgate" || doc.Info.Version == "" {
		t.Errorf("info: title %q version %q", doc.Info.Title, doc.Info.Version)
	}
	ids := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			if prev, dup := ids[op.OperationID]; op.OperationID == "" || dup {
				t.Errorf("%s: operationId %q is missing or also used by %s", name, op.OperationID, prev)
			}
			ids[op.OperationID] = name
			// Every operation states its authentication rule, in the
			// machine-readable form and for people.
			if op.Security == nil {
				t.Errorf("%s: no security requirement (use [] for a public operation)", name)
			}
			if !strings.Contains(op.Description, "**Authentication:**") {
				t.Errorf("%s: the description does not state the authentication rule", name)
			}
		}
	}
}

func TestOpenAPIRouteCoverage(t *testing.T) {
	t.Run("every route is documented and every operation served", func(t *testing.T) {
		undocumented, unserved := operationDiff(servedOperations(routeEngine(t)), documentedOperations(loadOpenAPI(t)))
		for _, op := range undocumented {
			t.Errorf("%s is served but not in server/openapi.json", op)
		}
		for _, op := range unserved {
			t.Errorf("%s is in server/openapi.json but no route serves it", op)
		}
	})
	t.Run("an undocumented route is caught", func(t *testing.T) {
		r := routeEngine(t)
		r.GET("/admin/v1/things/:id", func(*gin.Context) {})
		undocumented, _ := operationDiff(servedOperations(r), documentedOperations(loadOpenAPI(t)))
		if !slices.Equal(undocumented, []string{"GET /admin/v1/things/{id}"}) {
			t.Errorf("undocumented = %v, want the added route", undocumented)
		}
	})
	t.Run("a documented operation nothing serves is caught", func(t *testing.T) {
		doc := loadOpenAPI(t)
		doc.Paths.Value("/healthz").Delete = openapi3.NewOperation()
		_, unserved := operationDiff(servedOperations(routeEngine(t)), documentedOperations(doc))
		if !slices.Equal(unserved, []string{"DELETE /healthz"}) {
			t.Errorf("unserved = %v, want the added operation", unserved)
		}
	})
}

// checkResponse validates a recorded response against the document.
func checkResponse(t *testing.T, doc *openapi3.T, req *http.Request, rec *httptest.ResponseRecorder) {
	t.Helper()
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts},
		Status:                 rec.Code,
		Header:                 rec.Header(),
		Options:                opts,
	}
	in.SetBodyBytes(rec.Body.Bytes())
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s %s answered %d, not as documented: %v", req.Method, req.URL.Path, rec.Code, err)
	}
}

func TestOpenAPIHandler(t *testing.T) {
	doc := loadOpenAPI(t)
	r := routeEngine(t)
	get := func(inm ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, pathOpenAPI, nil)
		for _, v := range inm {
			req.Header.Add("If-None-Match", v)
		}
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		checkResponse(t, doc, req, rec)
		return rec
	}
	first := get()
	if first.Code != http.StatusOK || first.Header().Get("Content-Type") != "application/json" ||
		first.Header().Get("Cache-Control") != "public, max-age=300" || first.Body.String() != string(openAPIDoc) {
		t.Fatalf("GET: %d %v, body of %d bytes", first.Code, first.Header(), first.Body.Len())
	}
	etag := first.Header().Get("ETag")
	if !strings.HasPrefix(etag, `"`) || len(etag) < 10 {
		t.Fatalf("ETag %q is not a strong validator", etag)
	}
	for _, tc := range []struct {
		name string
		inm  []string
		want int
	}{
		{"the current tag", []string{etag}, http.StatusNotModified},
		{"weak comparison", []string{"W/" + etag}, http.StatusNotModified},
		{"in a list", []string{`"older", ` + etag}, http.StatusNotModified},
		{"in a second field", []string{`"older"`, etag}, http.StatusNotModified},
		{"any", []string{"*"}, http.StatusNotModified},
		{"another tag", []string{`"older"`}, http.StatusOK},
		{"a prefix of the tag", []string{etag[:len(etag)-2] + `"`}, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := get(tc.inm...)
			if rec.Code != tc.want || rec.Header().Get("ETag") != etag {
				t.Errorf("If-None-Match %q: %d ETag %q, want %d", tc.inm, rec.Code, rec.Header().Get("ETag"), tc.want)
			}
			if tc.want == http.StatusNotModified && rec.Body.Len() != 0 {
				t.Errorf("304 with a body of %d bytes", rec.Body.Len())
			}
		})
	}
}

// schemaCase is a value as a handler would answer it and whether the
// document's schema must accept it.
type schemaCase struct {
	name, schema string
	value        any
	valid        bool
}

// checkSchemas validates each case as the end-to-end validation does
// (JSON Schema 2020-12).
func checkSchemas(t *testing.T, cases []schemaCase) {
	doc := loadOpenAPI(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := doc.Components.Schemas[tc.schema]
			if s == nil {
				t.Fatalf("no schema %s", tc.schema)
			}
			if err := s.Value.VisitJSON(jsonValue(t, tc.value), openapi3.EnableJSONSchema2020()); (err == nil) != tc.valid {
				t.Errorf("%s: valid = %v, want %v (%v)", tc.schema, err == nil, tc.valid, err)
			}
		})
	}
}

// TestOpenAPIProtocolSchemas marshals the types the OAuth and discovery
// handlers answer with and checks them against the document; the invalid
// cases show that the 3.1 keywords it relies on (const, oneOf, not) are
// enforced, not ignored.
func TestOpenAPIProtocolSchemas(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 0, 0, 123, time.UTC)
	active := introspection.Result{Active: true, ClientID: "tgc_1", Subject: "usr_1", Audience: "https://api", Issuer: "https://auth", ExpiresAt: 2, IssuedAt: 1, ID: "j", TokenType: "Bearer", TokenUse: "access_token", Roles: []string{"r"}, APIKeyID: "key_abc"}
	multiAud := active
	multiAud.Audience = []string{"https://a", "https://b"}
	jwk := func(alg string) any {
		k, err := keys.GenerateKey(alg)
		if err != nil {
			t.Fatal(err)
		}
		// As the key set publishes it.
		return jose.JSONWebKey{Key: k.Public(), KeyID: k.ID, Algorithm: k.Algorithm, Use: "sig"}
	}
	checkSchemas(t, []schemaCase{
		{"Ed25519 key", "JWK", jwk(keys.EdDSA), true},
		{"P-256 key", "JWK", jwk(keys.ES256), true},
		{"key set", "JWKSet", map[string]any{"keys": []any{jwk(keys.EdDSA), jwk(keys.ES256)}}, true},
		{"P-256 key without y", "JWK", map[string]any{"kty": "EC", "kid": "k", "use": "sig", "alg": "ES256", "crv": "P-256", "x": "x"}, false},
		{"token response", "TokenResponse", tokenResponse{AccessToken: "x.y.z", TokenType: "Bearer", ExpiresIn: 300, Scope: "a", IssuedTokenType: "urn:ietf:params:oauth:token-type:access_token"}, true},
		{"token response with a refresh token", "TokenResponse", tokenResponse{AccessToken: "x.y.z", TokenType: "Bearer", ExpiresIn: 300, RefreshToken: "tgr_x"}, true},
		{"token response with another token type", "TokenResponse", tokenResponse{AccessToken: "x", TokenType: "MAC", ExpiresIn: 1}, false},
		{"inactive token", "IntrospectionResult", introspection.Result{}, true},
		{"inactive token with a claim", "IntrospectionResult", introspection.Result{Subject: "u"}, false},
		{"active token, one audience", "IntrospectionResult", active, true},
		{"active token, two audiences", "IntrospectionResult", multiAud, true},
		{"active refresh token", "IntrospectionResult", introspection.Result{Active: true, ClientID: "c", Subject: "c", Issuer: "i", ExpiresAt: 2, IssuedAt: 1, TokenUse: "refresh_token"}, true},
		{"refresh token claiming a token type", "IntrospectionResult", introspection.Result{Active: true, ClientID: "c", Subject: "c", Issuer: "i", ExpiresAt: 2, IssuedAt: 1, TokenType: "refresh_token"}, false},
		{"active token without sub", "IntrospectionResult", introspection.Result{Active: true, ClientID: "c", Issuer: "i", ExpiresAt: 2, IssuedAt: 1, TokenType: "Bearer", TokenUse: "access_token"}, false},
		{"token revocation", "RevocationEntry", entryOf(store.Revocation{Seq: 7, Kind: store.RevokedToken, Key: "j", RevokedAt: at, ExpiresAt: at}), true},
		{"subject revocation", "RevocationEntry", entryOf(store.Revocation{Seq: 8, Kind: store.RevokedSubject, Key: "user:usr_1", RevokedAt: at, ExpiresAt: at}), true},
		{"token revocation naming a subject", "RevocationEntry", revocationEntry{Seq: 1, Kind: "token", JTI: "j", Subject: "user:u"}, false},
		{"metadata", "AuthorizationServerMetadata", metadata{Issuer: "https://a", TokenEndpoint: "https://a/t", JWKSURI: "https://a/j", GrantTypesSupported: []string{}, TokenEndpointAuthMethodsSupported: authMethods, IntrospectionEndpoint: "https://a/i", IntrospectionAuthMethods: authMethods, RevocationEndpoint: "https://a/r", RevocationAuthMethods: authMethods, RevocationFeedEndpoint: "https://a/f", RevocationFeedStreamEndpoint: "https://a/s", DPoPAlgs: dpop.Algorithms, TokenEndpointAuthSigningAlgs: assertion.Algorithms, IntrospectionAuthAlgs: assertion.Algorithms, RevocationAuthAlgs: assertion.Algorithms,
			AudienceKeysEndpoint: "https://a/k", EncryptionAlgs: store.KeyAlgorithms, EncryptionEncs: []string{"A256GCM"}}, true},
	})
}

// TestOpenAPIAdminSchemas does the same for the admin API's views; the
// invalid cases show that unevaluatedProperties and null in type arrays
// are enforced.
func TestOpenAPIAdminSchemas(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 0, 0, 123, time.UTC)
	apiKey := &store.APIKey{ID: "key_abc", OwnerKind: store.OwnerUser, OwnerID: "usr_1", Name: "laptop", Scopes: []string{"a", "b"}, Prefix: "tgk_abcd", Last4: "wxyz", CreatedAt: at}
	usedKey := *apiKey
	usedKey.ExpiresAt, usedKey.LastUsedAt, usedKey.RevokedAt = at, at, at
	client := &store.Client{ID: "tgc_1", Name: "orders", GrantTypes: []string{"client_credentials"}, Scopes: []string{"a"}, CreatedAt: at, UpdatedAt: at}
	type createdClient struct {
		ClientSecret string `json:"client_secret"`
		registry.ClientView
	}
	type createdKey struct {
		APIKey string `json:"api_key"`
		registry.APIKeyView
	}
	checkSchemas(t, []schemaCase{
		{"client", "ClientView", registry.ViewClient(client), true},
		{"client with a secret", "ClientView", createdClient{"tgs_x", registry.ViewClient(client)}, false},
		{"created client", "ClientCreated", createdClient{"tgs_x", registry.ViewClient(client)}, true},
		{"user", "UserView", registry.ViewUser(&store.User{ID: "usr_1", Username: "carol", CreatedAt: at, UpdatedAt: at}), true},
		{"API key never used", "APIKeyView", registry.ViewAPIKey(apiKey), true},
		{"API key used, expiring, revoked", "APIKeyView", registry.ViewAPIKey(&usedKey), true},
		{"API key with a numeric expiry", "APIKeyView", map[string]any{"id": "key_a", "owner_type": "user", "owner_id": "u", "name": "n", "scope": "", "prefix": "tgk_abcd", "last4": "wxyz", "expires_at": 5, "created_at": "2026-05-01T12:00:00Z", "last_used_at": nil, "revoked_at": nil}, false},
		{"API key record with the key", "APIKeyView", createdKey{"tgk_x", registry.ViewAPIKey(apiKey)}, false},
		{"created API key", "APIKeyCreated", createdKey{"tgk_x", registry.ViewAPIKey(apiKey)}, true},
		{"created API key without the key", "APIKeyCreated", registry.ViewAPIKey(apiKey), false},
		{"signing key", "SigningKeyView", admin.ViewSigningKey(store.SigningKey{ID: "k1", Algorithm: "EdDSA", CreatedAt: at, ActiveAt: at, RetiredAt: at.Add(time.Hour)}, at), true},
		{"signing key, not retiring", "SigningKeyView", admin.ViewSigningKey(store.SigningKey{ID: "k2", Algorithm: "ES256", CreatedAt: at, ActiveAt: at}, at), true},
		{"problem", "Problem", map[string]any{"type": "https://tollgate.dev/problems/conflict", "title": "Conflict", "status": 409, "detail": "d"}, true},
		{"problem with an empty errors list", "Problem", map[string]any{"type": "https://tollgate.dev/problems/conflict", "title": "Conflict", "status": 409, "errors": []any{}}, false},
	})
}

// TestOpenAPIResponseNarrowing checks that a shared response's keywords
// next to a $ref (3.1) apply: an admin 404 must say status 404.
func TestOpenAPIResponseNarrowing(t *testing.T) {
	doc := loadOpenAPI(t)
	schema := doc.Components.Responses["AdminNotFound"].Value.Content.Get("application/problem+json").Schema.Value
	for status, valid := range map[int]bool{404: true, 400: false} {
		p := map[string]any{"type": "https://tollgate.dev/problems/not-found", "title": "Not found", "status": status}
		if err := schema.VisitJSON(jsonValue(t, p), openapi3.EnableJSONSchema2020()); (err == nil) != valid {
			t.Errorf("status %d: valid = %v, want %v", status, err == nil, valid)
		}
	}
}

// jsonValue returns v as encoding/json would send it, decoded generically.
func jsonValue(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// FuzzETagListed: no panic on any If-None-Match field, and the served tag
// is found wherever it is listed.
func FuzzETagListed(f *testing.F) {
	f.Add(`"a", W/"b"`, `"b"`)
	f.Add(`*`, `"x"`)
	f.Add(``, `"x"`)
	f.Add(`,,,"`, `"`)
	f.Fuzz(func(t *testing.T, field, etag string) {
		_ = etagListed([]string{field}, etag)
		// Ours are quoted base64url: a leading quote (so never a "W/"
		// prefix of their own), no commas, no surrounding space.
		if !strings.HasPrefix(etag, `"`) || strings.Contains(etag, ",") || strings.TrimSpace(etag) != etag {
			return
		}
		if !etagListed([]string{field + ", " + etag}, etag) || !etagListed([]string{"W/" + etag}, etag) {
			t.Errorf("tag %q not found after %q", etag, field)
		}
	})
}
