package grant

import (
	"context"

	"github.com/tollgate/tollgate/server/accesstoken"
	"github.com/tollgate/tollgate/store"
)

// issuance carries one token request through the engine's hooks, which
// receive only a context or an *http.Request. It never leaves this package.
type issuance struct {
	req    *Request
	client *store.Client
	user   *store.User
	scopes []string
	// aud is the token's audience, resolved when the client authenticated.
	aud []string
	// err is the precise error a hook hit; the engine only sees a flattened
	// value of its own.
	err error
	// Outputs, for the response and the logs.
	claims  *accesstoken.Claims
	refresh *store.RefreshToken
}

type issuanceKey struct{}

func withIssuance(ctx context.Context, st *issuance) context.Context {
	return context.WithValue(ctx, issuanceKey{}, st)
}

// issuanceFrom returns the request's state. The engine calls our hooks only
// from inside Engine.Token, so it is always there.
func issuanceFrom(ctx context.Context) *issuance {
	st, _ := ctx.Value(issuanceKey{}).(*issuance)
	if st == nil {
		return &issuance{}
	}
	return st
}
