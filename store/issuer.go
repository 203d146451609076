package store

import (
	"context"
	"time"
)

// TrustedIssuer is an external token issuer whose JWTs authenticate
// clients bound to it (workload identity federation): a Kubernetes
// cluster, a CI platform, a cloud. Name is the admin's handle for it.
type TrustedIssuer struct {
	Name string
	// Issuer is the iss its tokens carry, and where OIDC discovery
	// (/.well-known/openid-configuration) is tried when no keys are given.
	Issuer string
	// JWKSURI or JWKS (a JWK Set, JSON) give its keys; both empty means
	// discovery.
	JWKSURI string
	JWKS    []byte
	// Audience must be among the aud of its tokens.
	Audience string
	// MaxLifetime caps how far ahead a token's exp may be.
	MaxLifetime time.Duration
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// IssuerStore persists trusted issuers.
type IssuerStore interface {
	// CreateIssuer stores i. ErrConflict if its Name is taken.
	CreateIssuer(ctx context.Context, i *TrustedIssuer) error
	// GetIssuer returns the issuer with that name, or ErrNotFound.
	GetIssuer(ctx context.Context, name string) (*TrustedIssuer, error)
	// ListIssuers returns every issuer ordered by name.
	ListIssuers(ctx context.Context) ([]TrustedIssuer, error)
	// UpdateIssuer replaces every field of the stored issuer with i's but
	// Name and CreatedAt, or returns ErrNotFound.
	UpdateIssuer(ctx context.Context, i *TrustedIssuer) error
	// DeleteIssuer removes the issuer, or returns ErrNotFound.
	DeleteIssuer(ctx context.Context, name string) error
}
