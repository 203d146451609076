package server

import (
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/tollgate/tollgate/server/assertion"
	"github.com/tollgate/tollgate/server/oauth"
	"github.com/tollgate/tollgate/store"
)

// maxFormBytes bounds an OAuth request body.
const maxFormBytes = 64 << 10

// parseForm reads an application/x-www-form-urlencoded body of at most
// maxFormBytes and returns its parameters. RFC 6749 §3.2: a parameter sent
// more than once is invalid_request.
func parseForm(r *http.Request) (url.Values, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, oauth.New(oauth.InvalidRequest, "the body must be sent as Content-Type: application/x-www-form-urlencoded")
	}
	if r.ContentLength > maxFormBytes {
		return nil, errBodyTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxFormBytes+1))
	if err != nil {
		return nil, oauth.New(oauth.InvalidRequest, "the request body could not be read")
	}
	if len(body) > maxFormBytes {
		return nil, errBodyTooLarge
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, oauth.New(oauth.InvalidRequest, "the body is not valid form encoding")
	}
	for k, v := range form {
		if len(v) > 1 {
			return nil, oauth.New(oauth.InvalidRequest, "parameter "+safeName(k)+" is repeated; send each parameter once")
		}
		if !opaqueParams[k] && !store.StorableText(v[0]) {
			return nil, oauth.New(oauth.InvalidRequest, "parameter "+safeName(k)+" must be UTF-8 text without NUL characters")
		}
	}
	return form, nil
}

// opaqueParams are the parameters exempt from the text check: the others
// name clients, users, scopes and types, and may reach a query. Secrets
// and passwords are only ever hashed, so they may hold any bytes; a token
// that is garbage is the endpoint's to answer (RFC 7009 §2.2: revocation
// still says 200; RFC 7662 §2.2: inactive), and the token parsers refuse
// it before any lookup.
var opaqueParams = map[string]bool{
	"password": true, "client_secret": true,
	"token": true, "refresh_token": true, "subject_token": true, "actor_token": true,
}

var errBodyTooLarge = oauth.New(oauth.InvalidRequest, "the request body is larger than 64 KiB")

// safeName quotes a client-supplied parameter name for an error message,
// or names it generically if it is not short printable ASCII.
func safeName(k string) string {
	if len(k) > 40 {
		return "(a long name)"
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e || k[i] == '"' || k[i] == '\\' {
			return "(a name with unusual characters)"
		}
	}
	return `"` + k + `"`
}

// clientCredentials are the client's claimed identity and secret, or its
// JWT assertion (RFC 7521 §4.2).
type clientCredentials struct {
	ID, Secret string
	Assertion  string
	// Basic reports the credentials came in the Authorization header, so an
	// invalid_client answer carries a WWW-Authenticate challenge.
	Basic bool
}

var errBadBasic = oauth.New(oauth.InvalidClient, "the Authorization header must be: Basic base64(urlencode(client_id) \":\" urlencode(client_secret))")

// extractClient reads client credentials from HTTP Basic (RFC 6749 §2.3.1,
// id and secret form-encoded before base64) or from the body. A client must
// use exactly one method.
func extractClient(r *http.Request, form url.Values) (clientCredentials, error) {
	hdr := r.Header.Values("Authorization")
	if form.Has("client_assertion") || form.Has("client_assertion_type") {
		return extractAssertion(form, len(hdr) > 0)
	}
	switch len(hdr) {
	case 0:
		return clientCredentials{ID: form.Get("client_id"), Secret: form.Get("client_secret")}, nil
	case 1:
	default:
		return clientCredentials{}, oauth.New(oauth.InvalidRequest, "send one Authorization header")
	}
	cc := clientCredentials{Basic: true}
	id, secret, err := parseBasic(hdr[0])
	if err != nil {
		return cc, err
	}
	if form.Has("client_secret") {
		return cc, oauth.New(oauth.InvalidRequest, "use one client authentication method: HTTP Basic or client_secret in the body, not both")
	}
	if form.Has("client_id") && form.Get("client_id") != id {
		return cc, oauth.New(oauth.InvalidRequest, "client_id in the body differs from the one in the Authorization header")
	}
	cc.ID, cc.Secret = id, secret
	return cc, nil
}

// extractAssertion reads a JWT client assertion (RFC 7521 §4.2). The
// client_id is optional: the assertion's sub names the client.
func extractAssertion(form url.Values, basic bool) (clientCredentials, error) {
	switch {
	case basic || form.Has("client_secret"):
		return clientCredentials{}, oauth.New(oauth.InvalidRequest, "use one client authentication method: client_assertion, HTTP Basic or client_secret, not several")
	case form.Get("client_assertion_type") != assertion.Type:
		return clientCredentials{}, oauth.New(oauth.InvalidRequest, "client_assertion_type must be "+assertion.Type)
	case form.Get("client_assertion") == "":
		return clientCredentials{}, oauth.New(oauth.InvalidRequest, "client_assertion is required with client_assertion_type")
	}
	a := form.Get("client_assertion")
	id := form.Get("client_id")
	if id == "" {
		id = assertion.Subject(a)
	}
	return clientCredentials{ID: id, Assertion: a}, nil
}

// parseBasic decodes an HTTP Basic credential. The scheme is
// case-insensitive (RFC 9110 §11.1).
func parseBasic(h string) (string, string, error) {
	scheme, rest, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return "", "", errBadBasic
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
	if err != nil {
		return "", "", errBadBasic
	}
	encID, encSecret, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", "", errBadBasic
	}
	id, err1 := url.QueryUnescape(encID)
	secret, err2 := url.QueryUnescape(encSecret)
	// RFC 6749 §2.3.1: a client_id is text; one that no store can hold
	// names no client.
	if err := errors.Join(err1, err2); err != nil || id == "" || !store.StorableText(id) {
		return "", "", errBadBasic
	}
	return id, secret, nil
}
