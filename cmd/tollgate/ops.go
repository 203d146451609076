package main

import (
	"context"
	"time"

	"github.com/tollgate/tollgate/server/admin"
	"github.com/tollgate/tollgate/server/registry"
	"github.com/tollgate/tollgate/store"
)

// ops is what the admin commands do, either directly on the configured
// database (the default, so the first admin client can be made before any
// credentials exist) or through a server's admin API (--server).
type ops interface {
	createClient(ctx context.Context, spec registry.ClientSpec) (registry.ClientView, string, error)
	listClients(ctx context.Context) ([]registry.ClientView, error)
	getClient(ctx context.Context, id string) (registry.ClientView, error)
	deleteClient(ctx context.Context, id string) error
	createUser(ctx context.Context, spec registry.UserSpec) (registry.UserView, error)
	listUsers(ctx context.Context) ([]registry.UserView, error)
	// findUser looks a user up by id, then by username.
	findUser(ctx context.Context, idOrName string) (registry.UserView, error)
	deleteUser(ctx context.Context, id string) error
	createAPIKey(ctx context.Context, spec registry.APIKeySpec) (registry.APIKeyView, string, error)
	// listAPIKeys lists keys of one kind of owner (all when empty); clientID
	// narrows subjects' keys to one application's.
	listAPIKeys(ctx context.Context, kind store.OwnerKind, ownerID, clientID string) ([]registry.APIKeyView, error)
	revokeAPIKey(ctx context.Context, id string) error
	revokeClientTokens(ctx context.Context, id string) (time.Time, error)
	revokeUserTokens(ctx context.Context, id string) (time.Time, error)
	signingKeys(ctx context.Context) ([]keyView, error)
	rotateSigningKey(ctx context.Context) (keyView, error)
	changeOps
	issuerOps
	audienceOps
	Close() error
}

// keyView is a signing key's public facts.
type keyView = admin.SigningKeyView
