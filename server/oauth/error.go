// Package oauth holds the OAuth 2.0 error type shared by the token endpoint
// and the grant engine adapter. It is a leaf: it imports nothing of Tollgate.
package oauth

import "time"

// Error codes from RFC 6749 §5.2 and the registries that extend it.
const (
	InvalidRequest         = "invalid_request"
	InvalidClient          = "invalid_client"
	InvalidGrant           = "invalid_grant"
	UnauthorizedClient     = "unauthorized_client"
	UnsupportedGrantType   = "unsupported_grant_type"
	InvalidScope           = "invalid_scope"
	ServerError            = "server_error"
	TemporarilyUnavailable = "temporarily_unavailable"
	UnsupportedTokenType   = "unsupported_token_type"
	InvalidTarget          = "invalid_target"
	// InvalidDPoPProof and UseDPoPNonce are RFC 9449 §12.2's.
	InvalidDPoPProof = "invalid_dpop_proof"
	UseDPoPNonce     = "use_dpop_nonce"
)

// Error is an OAuth error response (RFC 6749 §5.2). Description is sent to
// the client, so it must never carry a secret or an internal cause.
type Error struct {
	Code        string
	Description string
	// RetryAfter, when positive, makes the answer 429 Too Many Requests
	// with a Retry-After header: the client is over a rate limit.
	RetryAfter time.Duration
	// Overloaded, with RetryAfter, makes the answer 503 Service
	// Unavailable instead (RFC 9110 §15.6.4): the server is over
	// capacity, not this client over its limit.
	Overloaded bool
}

// Error implements error.
func (e *Error) Error() string {
	if e.Description == "" {
		return e.Code
	}
	return e.Code + ": " + e.Description
}

// New returns an *Error with the given code and description.
func New(code, description string) *Error {
	return &Error{Code: code, Description: description}
}
