// Package registry creates and changes clients and users: the rules that
// the CLI (working on the database directly) and the admin API share.
// Secrets are generated here, returned once, and only their hashes stored.
package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/tollgate/tollgate/server/secret"
	"github.com/tollgate/tollgate/store"
)

// FieldError is one invalid input field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError lists every invalid field of one request.
type ValidationError struct {
	Fields []FieldError
	// Conflict is set when the input is valid but clashes with what is
	// stored (a taken name): HTTP 409 rather than 400.
	Conflict bool
}

// Error implements error.
func (e *ValidationError) Error() string {
	msgs := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		msgs[i] = f.Field + ": " + f.Message
	}
	return "invalid input: " + strings.Join(msgs, "; ")
}

func (e *ValidationError) add(field, format string, args ...any) {
	e.Fields = append(e.Fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (e *ValidationError) err() error {
	if len(e.Fields) == 0 {
		return nil
	}
	return e
}

// Revoker records revocations and returns once every node holds them;
// the server's *revocation.Set and the CLI's revocation.Recorder implement
// it.
type Revoker interface {
	Revoke(ctx context.Context, r *store.Revocation) error
	// RevokeAll records every entry, then waits once for all of them.
	RevokeAll(ctx context.Context, rs []*store.Revocation) error
}

// Registry creates and changes clients and users.
type Registry struct {
	clients     store.ClientStore
	users       store.UserStore
	revocations Revoker
	audit       store.AuditStore
	apiKeys     store.APIKeyStore
	lifetimes   store.LifetimeStore
	issuers     store.IssuerStore
	audiences   Audiences
	hasher      *secret.Hasher
	accessTTL   time.Duration
	skew        time.Duration
	maxKeys     int
	now         func() time.Time
	log         *slog.Logger
}

// Options configure a Registry.
type Options struct {
	Clients store.ClientStore
	Users   store.UserStore
	// Revocations records subject revocations: in a server its node's
	// revocation set (which applies them at once), in the CLI the store.
	Revocations Revoker
	// Audit receives one entry per change (optional).
	Audit   store.AuditStore
	APIKeys store.APIKeyStore
	// Lifetimes keeps the high-water marks of token lifetimes that size
	// subject revocations (see lifetime.go). Without it only AccessTTL and
	// the clients' own marks are known.
	Lifetimes store.LifetimeStore
	// Issuers holds the trusted issuers of workload identity federation
	// (optional: without it they cannot be managed, nor clients bound).
	Issuers store.IssuerStore
	// Audiences manages the audiences that receive encrypted tokens and
	// their keys (optional: without it they cannot be managed).
	Audiences Audiences
	Hasher    *secret.Hasher
	// AccessTTL is the server's default access-token lifetime and
	// ClockSkew its leeway: the least a subject revocation is remembered
	// (the marks in Lifetimes may demand longer).
	AccessTTL time.Duration
	ClockSkew time.Duration
	// MaxKeysPerOwner bounds the active API keys of one owner (a user, a
	// client, or an application's subject); 0 means no limit.
	MaxKeysPerOwner int
	Now             func() time.Time
	Logger          *slog.Logger
}

// New builds a Registry.
func New(o Options) *Registry {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Registry{
		clients: o.Clients, users: o.Users, revocations: o.Revocations, audit: o.Audit, apiKeys: o.APIKeys, lifetimes: o.Lifetimes, issuers: o.Issuers, audiences: o.Audiences, hasher: o.Hasher,
		accessTTL: o.AccessTTL, skew: o.ClockSkew, maxKeys: o.MaxKeysPerOwner, now: o.Now, log: o.Logger,
	}
}

// conflict turns store.ErrConflict into a field error that says what to do.
func conflict(err error, field, what string) error {
	if errors.Is(err, store.ErrConflict) {
		return &ValidationError{Fields: []FieldError{{Field: field, Message: what + " is already taken; choose another"}}, Conflict: true}
	}
	return err
}
