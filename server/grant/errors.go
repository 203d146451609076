package grant

import (
	oerrors "github.com/go-oauth2/oauth2/v4/errors"

	"github.com/tollgate/tollgate/server/oauth"
)

// engineErrors maps the engine's error values (compared by identity, as the
// engine does) to ours. Its status codes are ignored: the HTTP layer derives
// the status from the code per RFC 6749 §5.2.
var engineErrors = map[error]*oauth.Error{
	oerrors.ErrInvalidRequest:       oauth.New(oauth.InvalidRequest, "the request is missing a required parameter or is malformed"),
	oerrors.ErrInvalidClient:        errClientAuth,
	oerrors.ErrUnauthorizedClient:   oauth.New(oauth.UnauthorizedClient, "this client may not use this grant type"),
	oerrors.ErrInvalidGrant:         errBadLogin,
	oerrors.ErrInvalidRefreshToken:  errBadRefresh,
	oerrors.ErrExpiredRefreshToken:  errBadRefresh,
	oerrors.ErrUnsupportedGrantType: oauth.New(oauth.UnsupportedGrantType, "supported grant types: client_credentials, password, refresh_token"),
	oerrors.ErrInvalidScope:         oauth.New(oauth.InvalidScope, "the requested scope is not allowed for this client"),
	oerrors.ErrAccessDenied:         errBadLogin,
}

// mapEngineError turns an engine error into an *oauth.Error, or returns it
// unchanged when it is not the engine's (a store or signing failure).
func mapEngineError(err error) error {
	if oe, ok := engineErrors[err]; ok {
		return oe
	}
	return err
}
