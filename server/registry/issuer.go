package registry

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"time"

	"github.com/tollgate/tollgate/server/assertion"
	"github.com/tollgate/tollgate/store"
)

// Bounds of a trusted issuer's token lifetime cap.
const (
	DefaultIssuerMaxLifetime = assertion.DefaultIssuerMaxLifetime
	maxIssuerLifetime        = 7 * 24 * time.Hour
)

var issuerName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// IssuerSpec is what a caller sets on a trusted issuer.
type IssuerSpec struct {
	Name   string
	Issuer string
	// JWKSURI or JWKS (a public JWK Set) give its keys; neither means
	// OIDC discovery at Issuer.
	JWKSURI  string
	JWKS     []byte
	Audience string
	// MaxLifetime caps how far ahead its tokens' exp may be (0:
	// DefaultIssuerMaxLifetime).
	MaxLifetime time.Duration
}

// IssuerView is a trusted issuer as shown to admins.
type IssuerView struct {
	Name     string          `json:"name"`
	Issuer   string          `json:"issuer"`
	JWKSURI  string          `json:"jwks_uri,omitempty"`
	JWKS     json.RawMessage `json:"jwks,omitempty"`
	Audience string          `json:"audience"`
	// MaxLifetime is in seconds.
	MaxLifetime int64     `json:"max_lifetime"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// ViewIssuer returns i as shown to admins.
func ViewIssuer(i *store.TrustedIssuer) IssuerView {
	return IssuerView{
		Name: i.Name, Issuer: i.Issuer, JWKSURI: i.JWKSURI, JWKS: compactJSON(i.JWKS), Audience: i.Audience,
		MaxLifetime: int64(i.MaxLifetime / time.Second), CreatedAt: i.CreatedAt, UpdatedAt: i.UpdatedAt,
	}
}

var errNoIssuers = &ValidationError{Fields: []FieldError{{Field: "federated_issuer", Message: "this server keeps no trusted issuers"}}}

// CreateIssuer validates and stores a trusted issuer.
func (r *Registry) CreateIssuer(ctx context.Context, spec IssuerSpec) (*store.TrustedIssuer, error) {
	ctx, done := r.begin(ctx)
	defer done()
	if r.issuers == nil {
		return nil, errNoIssuers
	}
	if spec.MaxLifetime == 0 {
		spec.MaxLifetime = DefaultIssuerMaxLifetime
	}
	if err := validateIssuer(spec); err != nil {
		return nil, err
	}
	now := r.now().UTC()
	i := &store.TrustedIssuer{
		Name: spec.Name, Issuer: spec.Issuer, JWKSURI: spec.JWKSURI, JWKS: spec.JWKS, Audience: spec.Audience,
		MaxLifetime: spec.MaxLifetime, CreatedAt: now, UpdatedAt: now,
	}
	if err := r.issuers.CreateIssuer(ctx, i); err != nil {
		return nil, conflict(err, "name", "issuer name "+spec.Name)
	}
	return i, r.record(ctx, "issuer.create", target("issuer:", i.Name), nil, ViewIssuer(i))
}

// ListIssuers returns every trusted issuer.
func (r *Registry) ListIssuers(ctx context.Context) ([]IssuerView, error) {
	if r.issuers == nil {
		return []IssuerView{}, nil
	}
	list, err := r.issuers.ListIssuers(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]IssuerView, len(list))
	for i := range list {
		out[i] = ViewIssuer(&list[i])
	}
	return out, nil
}

// IssuerPatch changes some fields of a trusted issuer; nil fields stay.
// Setting JWKS clears JWKSURI and the other way round; setting both to
// empty means OIDC discovery.
type IssuerPatch struct {
	Issuer      *string
	JWKSURI     *string
	JWKS        *[]byte
	Audience    *string
	MaxLifetime *time.Duration
}

// UpdateIssuer applies p to the issuer, validating the result: a
// cluster's rotated service-account keys go in without a moment when its
// clients are refused.
func (r *Registry) UpdateIssuer(ctx context.Context, name string, p IssuerPatch) (*store.TrustedIssuer, error) {
	ctx, done := r.begin(ctx)
	defer done()
	if r.issuers == nil {
		return nil, store.ErrNotFound
	}
	i, err := r.issuers.GetIssuer(ctx, name)
	if err != nil {
		return nil, err
	}
	before := ViewIssuer(i)
	spec := IssuerSpec{Name: i.Name, Issuer: i.Issuer, JWKSURI: i.JWKSURI, JWKS: i.JWKS, Audience: i.Audience, MaxLifetime: i.MaxLifetime}
	set(&spec.Issuer, p.Issuer)
	set(&spec.Audience, p.Audience)
	set(&spec.MaxLifetime, p.MaxLifetime)
	switch {
	case p.JWKS != nil && p.JWKSURI == nil:
		spec.JWKS, spec.JWKSURI = *p.JWKS, ""
	case p.JWKSURI != nil && p.JWKS == nil:
		spec.JWKS, spec.JWKSURI = nil, *p.JWKSURI
	default:
		set(&spec.JWKS, p.JWKS)
		set(&spec.JWKSURI, p.JWKSURI)
	}
	if err := validateIssuer(spec); err != nil {
		return nil, err
	}
	i.Issuer, i.JWKSURI, i.JWKS, i.Audience, i.MaxLifetime = spec.Issuer, spec.JWKSURI, spec.JWKS, spec.Audience, spec.MaxLifetime
	i.UpdatedAt = r.now().UTC()
	if err := r.issuers.UpdateIssuer(ctx, i); err != nil {
		return nil, err
	}
	return i, r.record(ctx, "issuer.update", target("issuer:", i.Name), before, ViewIssuer(i))
}

// DeleteIssuer removes a trusted issuer: the clients bound to it are
// refused (invalid_client) until bound to another.
func (r *Registry) DeleteIssuer(ctx context.Context, name string) error {
	ctx, done := r.begin(ctx)
	defer done()
	if r.issuers == nil {
		return store.ErrNotFound
	}
	i, err := r.issuers.GetIssuer(ctx, name)
	if err != nil {
		return err
	}
	if err := r.issuers.DeleteIssuer(ctx, name); err != nil {
		return err
	}
	return r.record(ctx, "issuer.delete", target("issuer:", name), ViewIssuer(i), nil)
}

func validateIssuer(s IssuerSpec) error {
	var v ValidationError
	if !issuerName.MatchString(s.Name) {
		v.add("name", "must be 1 to 63 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	if len(s.Issuer) > 2048 || assertion.CheckURI(s.Issuer) != nil {
		v.add("issuer", "must be the issuer's https URL, exactly as its tokens' iss (http only to a loopback address)")
	}
	if s.Audience == "" || len(s.Audience) > maxValueLen || printable(s.Audience) != s.Audience {
		v.add("audience", "must be 1 to %d printable characters: the aud the platform puts in tokens meant for Tollgate", maxValueLen)
	}
	switch {
	case len(s.JWKS) > 0 && s.JWKSURI != "":
		v.add("jwks", "give either jwks or jwks_uri (or neither, for OIDC discovery), not both")
	case len(s.JWKS) > 0:
		if _, err := assertion.ParseIssuerKeys(s.JWKS); err != nil {
			v.add("jwks", "%s", err.Error())
		}
	case s.JWKSURI != "":
		if len(s.JWKSURI) > 2048 || assertion.CheckURI(s.JWKSURI) != nil {
			v.add("jwks_uri", "must be an https URL (http only to a loopback address)")
		}
	}
	if s.MaxLifetime < time.Minute || s.MaxLifetime > maxIssuerLifetime {
		v.add("max_lifetime", "must be between 1m and %s", maxIssuerLifetime)
	}
	return v.err()
}

// checkBinding checks a client's federation binding against the stored
// issuers.
func (r *Registry) checkBinding(ctx context.Context, s ClientSpec) error {
	if s.FederatedIssuer == "" {
		return nil
	}
	if r.issuers == nil {
		return errNoIssuers
	}
	if _, err := r.issuers.GetIssuer(ctx, s.FederatedIssuer); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return &ValidationError{Fields: []FieldError{{Field: "federated_issuer", Message: "no trusted issuer is named " + printable(s.FederatedIssuer) + " (tollgate issuer list)"}}}
		}
		return err
	}
	return nil
}
