package grant

import (
	"context"
	"errors"
	"time"

	oerrors "github.com/go-oauth2/oauth2/v4/errors"

	"github.com/tollgate/tollgate/server/oauth"
	"github.com/tollgate/tollgate/server/secret"
	"github.com/tollgate/tollgate/store"
)

// maxPassword bounds the argon2id input; longer ones are refused unread.
const maxPassword = 1024

var errBadLogin = oauth.New(oauth.InvalidGrant, "the username or password is wrong, or the user is disabled")

// DefaultLoginQueueTimeout is how long a password login waits for an
// argon2id slot by default.
const DefaultLoginQueueTimeout = 2 * time.Second

// errLoginsBusy is the answer when no argon2id slot freed up in time: 503
// with Retry-After (RFC 6749 §5.2 temporarily_unavailable).
var errLoginsBusy = &oauth.Error{Code: oauth.TemporarilyUnavailable, Description: "too many concurrent logins; retry after the time in Retry-After", RetryAfter: time.Second, Overloaded: true}

// passwordAuthorization is the engine's PasswordAuthorizationHandler
// (RFC 6749 §4.3.2). The engine calls it after clientInfo has authenticated
// the client. Unknown users cost one argon2id run too, so timing does not
// reveal which usernames exist.
func (e *Engine) passwordAuthorization(ctx context.Context, _, username, password string) (string, error) {
	st := issuanceFrom(ctx)
	u, err := e.VerifyUser(ctx, username, password)
	if err != nil {
		st.err = err
		var oe *oauth.Error
		switch {
		case ctx.Err() != nil:
			return "", oerrors.ErrTemporarilyUnavailable // the caller left
		case !errors.As(err, &oe):
			return "", err
		case oe.Code == oauth.InvalidRequest:
			return "", oerrors.ErrInvalidRequest
		case oe.Code == oauth.TemporarilyUnavailable:
			return "", oerrors.ErrTemporarilyUnavailable
		}
		return "", oerrors.ErrInvalidGrant
	}
	st.user = u
	return u.ID, nil
}

// VerifyUser checks a username and password as the password grant does,
// under the same argon2id limits; the admin console signs people in with
// it. Its errors: an *oauth.Error invalid_grant for a wrong password, an
// unknown or a disabled user (one answer for all three, and unknown users
// cost one argon2id run too, so that timing does not reveal which
// usernames exist); invalid_request for a password over 1024 bytes;
// temporarily_unavailable (Overloaded, RetryAfter) when no argon2id slot
// freed up in time; the context's error if the caller left while queued;
// any other error is the store's or an unreadable stored hash.
func (e *Engine) VerifyUser(ctx context.Context, username, password string) (*store.User, error) {
	if len(password) > maxPassword {
		return nil, oauth.New(oauth.InvalidRequest, "password is too long")
	}
	// Each argon2id run holds about 19 MiB: bound how many run at once so a
	// burst of logins cannot exhaust memory, and how long one queues.
	release, err := e.argon.Acquire(ctx)
	if err != nil {
		if errors.Is(err, secret.ErrBusy) {
			return nil, errLoginsBusy
		}
		return nil, err // the caller left: its context's error
	}
	defer release()
	u, err := e.opts.Users.GetUserByUsername(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		secret.DummyPasswordVerify(password)
		return nil, errBadLogin
	}
	if err != nil {
		return nil, err
	}
	ok, err := secret.VerifyPassword(u.PasswordHash, password)
	if err != nil {
		// A stored hash we cannot read is our fault, not the client's.
		return nil, err
	}
	if !ok || u.Disabled {
		return nil, errBadLogin
	}
	return u, nil
}
