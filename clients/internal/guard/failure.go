package guard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/tollgate/tollgate/clients/verify"
)

// RFC 6750 §3.1 error codes, and RFC 6749's for an unavailable issuer.
const (
	codeInvalidRequest    = "invalid_request"
	codeInvalidToken      = "invalid_token"
	codeInsufficientScope = "insufficient_scope"
	codeUnavailable       = "temporarily_unavailable"
	// codeUnauthorized is only in the body: RFC 6750 §3.1 says a request
	// without credentials gets no error code in the challenge.
	codeUnauthorized = "unauthorized"
)

// Failure is an error response. Write renders it.
type Failure struct {
	Status      int
	Code        string
	Description string
	// Scope lists the scopes the request needs (insufficient_scope).
	Scope string
	// DPoP makes the challenge a DPoP one (RFC 9449 §7.1): the request
	// used that scheme, or its proof failed.
	DPoP bool
}

type body struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	Scope       string `json:"scope,omitempty"`
}

// Write sends f: the status, an RFC 6750 §3 WWW-Authenticate challenge
// on 401 and 403, and a small JSON body. Nothing is cached (RFC 6750 §5.3).
func (f *Failure) Write(w http.ResponseWriter) {
	h := w.Header()
	switch f.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		h.Set("WWW-Authenticate", f.challenge())
		if f.Code == codeUnauthorized {
			// RFC 9449 §7.1: both schemes are accepted.
			h.Add("WWW-Authenticate", "DPoP"+strings.TrimPrefix(dpopAlgs, ","))
		}
	case http.StatusServiceUnavailable:
		h.Set("Retry-After", "1")
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(f.Status)
	b, _ := json.Marshal(body{Error: f.Code, Description: f.Description, Scope: f.Scope})
	_, _ = w.Write(append(b, '\n'))
}

// challenge is the WWW-Authenticate value. Descriptions and scopes are
// ours and contain no quote or backslash (RFC 6750 §3).
func (f *Failure) challenge() string {
	if f.Code == codeUnauthorized {
		return "Bearer"
	}
	scheme := "Bearer"
	if f.DPoP {
		scheme = "DPoP"
	}
	c := fmt.Sprintf(`%s error="%s", error_description="%s"`, scheme, f.Code, f.Description)
	if f.Scope != "" {
		c += fmt.Sprintf(`, scope="%s"`, f.Scope)
	}
	if f.DPoP {
		c += dpopAlgs
	}
	return c
}

// NoToken is the answer to a request without a bearer token where one is
// required.
func NoToken() *Failure {
	return &Failure{Status: http.StatusUnauthorized, Code: codeUnauthorized, Description: "this request needs a bearer access token"}
}

// HeaderFailure answers a bad Authorization header: 401, never 400, so
// that a client's next step is always to fix its credentials.
func HeaderFailure(err error) *Failure {
	if errors.Is(err, ErrTooLong) {
		return &Failure{Status: http.StatusUnauthorized, Code: codeInvalidToken, Description: "the access token is too long"}
	}
	d := "send one Authorization header: Bearer, a space, then the access token"
	return &Failure{Status: http.StatusUnauthorized, Code: codeInvalidRequest, Description: d}
}

// VerifyFailure answers a token that failed verification.
func VerifyFailure(err error) *Failure {
	if errors.Is(err, verify.ErrUnavailable) || errors.Is(err, verify.ErrClosed) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &Failure{Status: http.StatusServiceUnavailable, Code: codeUnavailable, Description: "the access token cannot be checked right now; retry shortly"}
	}
	d := "the access token is invalid"
	switch {
	case errors.Is(err, verify.ErrExpired):
		d = "the access token expired"
	case errors.Is(err, verify.ErrNotYetValid):
		d = "the access token is not valid yet"
	case errors.Is(err, verify.ErrRevoked), errors.Is(err, verify.ErrInactive):
		d = "the access token was revoked or is not active"
	case errors.Is(err, verify.ErrAudience):
		d = "the access token is not meant for this service"
	case errors.Is(err, verify.ErrIssuer):
		d = "the access token is from another issuer"
	case errors.Is(err, verify.ErrFeedLost):
		d = "the access token predates an interruption of revocation updates; get a new one"
	}
	return &Failure{Status: http.StatusUnauthorized, Code: codeInvalidToken, Description: d}
}

// Scopes answers 403 insufficient_scope unless p has every scope, and 401
// if there is no p.
func Scopes(p *verify.Principal, ok bool, scopes []string) *Failure {
	if !ok {
		return NoToken()
	}
	for _, s := range scopes {
		if !p.HasScope(s) {
			all := strings.Join(scopes, " ")
			return &Failure{Status: http.StatusForbidden, Code: codeInsufficientScope, Description: needs("scope", scopes), Scope: all}
		}
	}
	return nil
}

// Roles answers 403 insufficient_scope unless p has every role, and 401
// if there is no p.
func Roles(p *verify.Principal, ok bool, roles []string) *Failure {
	if !ok {
		return NoToken()
	}
	for _, r := range roles {
		if !p.HasRole(r) {
			return &Failure{Status: http.StatusForbidden, Code: codeInsufficientScope, Description: needs("role", roles)}
		}
	}
	return nil
}

func needs(kind string, names []string) string {
	if len(names) > 1 {
		kind += "s"
	}
	return "this request needs the " + kind + " " + strings.Join(names, " ")
}

// MustNames panics unless every name is a valid RFC 6749 §3.3
// scope-token, so that it can be quoted in a challenge; the middleware
// constructors call it with names fixed in code.
func MustNames(kind string, names []string) []string {
	if len(names) == 0 {
		panic(fmt.Sprintf("bearer: Require%s needs at least one %s", kind, strings.ToLower(kind[:len(kind)-1])))
	}
	for _, n := range names {
		if n == "" || strings.ContainsFunc(n, func(r rune) bool { return r < 0x21 || r == '"' || r == '\\' || r > 0x7e }) {
			panic(fmt.Sprintf("bearer: %q is not a valid name for Require%s", n, kind))
		}
	}
	return append([]string(nil), names...)
}
