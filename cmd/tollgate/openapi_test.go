package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/server"
)

// openAPIContract checks responses against server/openapi.json.
type openAPIContract struct {
	doc    *openapi3.T
	router routers.Router
}

// contract loads the document once: it is immutable and the validation
// below only reads it, so every test shares it safely.
var contract = sync.OnceValues(func() (*openAPIContract, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(server.OpenAPI())
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, err
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	return &openAPIContract{doc: doc, router: router}, nil
})

// check reports how a response to req departs from the document: its
// status is not listed for the operation, a required header is missing or
// malformed, its media type is not listed, its body does not match the
// schema, or it has a body where the document lists none. A path the
// document does not list must answer its 404, and a method a path does not
// list its 405 (components.responses NotFound and MethodNotAllowed).
func (oc *openAPIContract) check(req *http.Request, status int, header http.Header, body []byte) error {
	route, params, err := oc.router.FindRoute(req)
	switch {
	case errors.Is(err, routers.ErrPathNotFound):
		route, err = oc.fallback(http.StatusNotFound, "NotFound"), nil
	case errors.Is(err, routers.ErrMethodNotAllowed):
		route, err = oc.fallback(http.StatusMethodNotAllowed, "MethodNotAllowed"), nil
	}
	if err != nil {
		return err
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts},
		Status:                 status,
		Header:                 header,
		Options:                opts,
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(req.Context(), in); err != nil {
		return err
	}
	// ValidateResponse skips the body when the document lists no content.
	if ref := route.Operation.Responses.Status(status); ref != nil && len(ref.Value.Content) == 0 && len(body) > 0 {
		return fmt.Errorf("a body of %d bytes where the document lists none", len(body))
	}
	return nil
}

// fallback is a route whose only answer is the named shared response, for
// requests no documented operation matches.
func (oc *openAPIContract) fallback(status int, name string) *routers.Route {
	op := openapi3.NewOperation()
	op.Responses = openapi3.NewResponses(openapi3.WithStatus(status, &openapi3.ResponseRef{Value: oc.doc.Components.Responses[name].Value}))
	return &routers.Route{Spec: oc.doc, Path: "(undocumented)", Operation: op}
}

// checkOpenAPI validates one response the end-to-end tests received.
func checkOpenAPI(req *http.Request, status int, header http.Header, body []byte) error {
	oc, err := contract()
	if err != nil {
		return fmt.Errorf("loading openapi.json: %w", err)
	}
	return oc.check(req, status, header, body)
}

// TestOpenAPIServedAndWired checks the wired service, as run: every route
// of its handler is documented and every documented operation served
// (with the admin API mounted), and /openapi.json serves the document.
func TestOpenAPIServedAndWired(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	e.start()
	engine, ok := e.svc.handler.(*gin.Engine)
	if !ok {
		t.Fatalf("the service's handler is a %T, not the Gin engine", e.svc.handler)
	}
	oc, err := contract()
	if err != nil {
		t.Fatal(err)
	}
	var served, documented []string
	for _, r := range engine.Routes() {
		// The admin console's HTML pages are no API (docs/CONSOLE.md).
		if r.Path == "/console" || strings.HasPrefix(r.Path, "/console/") {
			continue
		}
		served = append(served, r.Method+" "+strings.ReplaceAll(r.Path, ":id", "{id}"))
	}
	for path, item := range oc.doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	slices.Sort(served)
	slices.Sort(documented)
	if !slices.Equal(served, documented) {
		t.Errorf("served routes:\n%s\ndocumented operations:\n%s", strings.Join(served, "\n"), strings.Join(documented, "\n"))
	}
	r := e.get("/openapi.json")
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/json" || r.raw != string(server.OpenAPI()) {
		t.Errorf("GET /openapi.json: %d %s, %d bytes", r.status, r.header.Get("Content-Type"), len(r.raw))
	}
}

// TestOpenAPIContractCatchesDepartures feeds the check responses that
// depart from the document, so that a silent validator cannot pass for a
// strict one.
func TestOpenAPIContractCatchesDepartures(t *testing.T) {
	t.Parallel()
	noStore := http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}, "Pragma": {"no-cache"}}
	plain := http.Header{"Content-Type": {"application/json"}}
	problem := http.Header{"Content-Type": {"application/problem+json"}, "Cache-Control": {"no-store"}}
	for _, tc := range []struct {
		name, method, path string
		status             int
		header             http.Header
		body               string
		ok                 bool
	}{
		{"healthy", "GET", "/healthz", 200, plain, `{"status":"ok"}`, true},
		{"wrong health status", "GET", "/healthz", 200, plain, `{"status":"fine"}`, false},
		{"undocumented status", "GET", "/healthz", 418, plain, `{"status":"ok"}`, false},
		{"undocumented media type", "GET", "/healthz", 200, http.Header{"Content-Type": {"text/plain"}}, `ok`, false},
		{"token", "POST", "/oauth2/token", 200, noStore, `{"access_token":"a","token_type":"Bearer","expires_in":300}`, true},
		{"token without no-store", "POST", "/oauth2/token", 200, plain, `{"access_token":"a","token_type":"Bearer","expires_in":300}`, false},
		{"token with an unknown field", "POST", "/oauth2/token", 200, noStore, `{"access_token":"a","token_type":"Bearer","expires_in":300,"id_token":"x"}`, false},
		{"OAuth error", "POST", "/oauth2/token", 400, noStore, `{"error":"invalid_grant","error_description":"d"}`, true},
		{"401 code on a 400", "POST", "/oauth2/token", 400, noStore, `{"error":"invalid_client","error_description":"d"}`, false},
		{"revocation", "POST", "/oauth2/revoke", 200, http.Header{"Cache-Control": {"no-store"}}, ``, true},
		{"revocation with a body", "POST", "/oauth2/revoke", 200, http.Header{"Cache-Control": {"no-store"}, "Content-Type": {"application/json"}}, `{}`, false},
		{"admin 404", "GET", "/admin/v1/users/usr_x", 404, problem, `{"type":"https://tollgate.dev/problems/not-found","title":"Not found","status":404,"detail":"no such user"}`, true},
		{"admin 404 saying 400", "GET", "/admin/v1/users/usr_x", 404, problem, `{"type":"https://tollgate.dev/problems/not-found","title":"Not found","status":400}`, false},
		{"admin 401 without a challenge", "GET", "/admin/v1/users", 401, problem, `{"type":"https://tollgate.dev/problems/unauthenticated","title":"Unauthenticated","status":401}`, false},
		{"unknown path", "GET", "/nope", 404, plain, `{"error":"not_found","error_description":"d"}`, true},
		{"unknown path answered 200", "GET", "/nope", 200, plain, `{}`, false},
		{"other method", "DELETE", "/healthz", 405, http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}, "Allow": {"GET"}}, `{"error":"invalid_request","error_description":"d"}`, true},
		{"other method without Allow", "DELETE", "/healthz", 405, noStore, `{"error":"invalid_request","error_description":"d"}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequestWithContext(context.Background(), tc.method, "http://127.0.0.1:1"+tc.path, nil)
			err := checkOpenAPI(req, tc.status, tc.header, bytes.Clone([]byte(tc.body)))
			if (err == nil) != tc.ok {
				t.Errorf("check passed = %v, want %v (%v)", err == nil, tc.ok, err)
			}
		})
	}
}

// TestOpenAPIAdminTour calls every admin operation once, and the errors
// the other end-to-end tests do not reach, so that each documented answer
// is validated against a real one (by do).
func TestOpenAPIAdminTour(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	e.start()
	a := e.newAdmin()
	step := func(want int, method, path string, body any) response {
		t.Helper()
		r := a.call(method, path, body)
		if r.status != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, r.status, r.raw, want)
		}
		return r
	}
	cid := step(201, "POST", "/clients", map[string]any{
		"client_name": "tour", "grant_types": []string{"password", "refresh_token"}, "scope": "a b", "default_scope": "a",
		"token_endpoint_auth_method": "client_secret_post", "audience": []string{"https://api.example"}, "roles": []string{"r"},
		"access_token_ttl": 600, "refresh_token_ttl": 3600, "rate_limit": 5,
	}).body["client_id"].(string)
	step(200, "GET", "/clients/"+cid, nil)
	if r := step(200, "GET", "/clients?limit=1", nil); r.body["next_cursor"] == nil {
		t.Errorf("two clients, a page of one, and no next_cursor: %s", r.raw)
	}
	step(200, "PATCH", "/clients/"+cid, map[string]any{"roles": []string{"r2"}})
	step(200, "POST", "/clients/"+cid+"/secret", nil)
	step(200, "POST", "/clients/"+cid+"/secret", map[string]any{"overlap": 0})
	step(200, "POST", "/clients/"+cid+"/revoke-tokens", nil)
	uid := step(201, "POST", "/users", map[string]any{"username": "tour", "password": "a long passphrase"}).body["id"].(string)
	step(200, "GET", "/users", nil)
	step(200, "GET", "/users/"+uid, nil)
	step(200, "PATCH", "/users/"+uid, map[string]any{"disabled": true})
	step(200, "POST", "/users/"+uid+"/revoke-tokens", nil)
	kid := step(201, "POST", "/api-keys", map[string]any{"owner_type": "client", "owner_id": cid, "name": "k", "expires_in": 3600}).body["id"].(string)
	step(200, "GET", "/api-keys/"+kid, nil)
	step(200, "GET", "/api-keys?owner_type=client&owner_id="+cid, nil)
	step(204, "DELETE", "/api-keys/"+kid, nil)
	step(200, "GET", "/api-keys/"+kid, nil)
	step(200, "GET", "/signing-keys", nil)
	step(201, "POST", "/signing-keys/rotate", nil)
	step(200, "GET", "/audit?limit=1&target=client:"+cid, nil)
	step(400, "GET", "/audit?cursor=x", nil)
	step(400, "GET", "/api-keys?owner_type=robot", nil)
	step(400, "PATCH", "/users/"+uid, map[string]any{"roles": "not a list"})
	step(204, "DELETE", "/users/"+uid, nil)
	step(204, "DELETE", "/clients/"+cid, nil)
	step(404, "DELETE", "/clients/"+cid, nil)
	step(404, "POST", "/users/"+uid+"/revoke-tokens", nil)

	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/admin/v1/users", strings.NewReader("username=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+a.token)
	if r := e.do(req); r.status != http.StatusUnsupportedMediaType {
		t.Errorf("form body: %d %s", r.status, r.raw)
	}
	req, _ = http.NewRequest(http.MethodPut, e.srv.URL+"/admin/v1/clients", nil)
	if r := e.do(req); r.status != http.StatusMethodNotAllowed {
		t.Errorf("PUT on the client list: %d %s", r.status, r.raw)
	}
}

// TestOpenAPIRevocationStream checks the stream, which do cannot read to
// its end: the status and headers against the document, and each event's
// data against RevocationEntry.
func TestOpenAPIRevocationStream(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, embedded)
	id, secret := e.newClient("--name", "svc")
	rsID, rsSecret := e.rsClient()
	e.start()
	e.revoke(id, secret, e.ccToken(id, secret))
	oc, err := contract()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+"/oauth2/revocations/stream", nil)
	req.Header = basic(rsID, rsSecret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	route, params, err := oc.router.FindRoute(req)
	if err != nil {
		t.Fatal(err)
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, ExcludeResponseBody: true}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts},
		Status:                 res.StatusCode, Header: res.Header, Options: opts,
	}
	if err := openapi3filter.ValidateResponse(ctx, in); err != nil {
		t.Errorf("stream: %v", err)
	}
	ct := res.Header.Get("Content-Type")
	if route.Operation.Responses.Status(res.StatusCode).Value.Content.Get(ct) == nil {
		t.Errorf("stream: media type %q is not documented", ct)
	}
	// The set holds one entry, sent first: id, event and data lines.
	lines := bufio.NewScanner(res.Body)
	var got []string
	for len(got) < 3 && lines.Scan() {
		got = append(got, lines.Text())
	}
	if len(got) < 3 || !strings.HasPrefix(got[0], "id: ") || got[1] != "event: revocation" || !strings.HasPrefix(got[2], "data: ") {
		t.Fatalf("first event: %q", got)
	}
	var entry any
	if err := json.Unmarshal([]byte(strings.TrimPrefix(got[2], "data: ")), &entry); err != nil {
		t.Fatal(err)
	}
	if err := oc.doc.Components.Schemas["RevocationEntry"].Value.VisitJSON(entry, openapi3.EnableJSONSchema2020()); err != nil {
		t.Errorf("event data %s is not a RevocationEntry: %v", got[2], err)
	}
}
