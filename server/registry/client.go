package registry

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/tollgate/tollgate/server/assertion"
	"github.com/tollgate/tollgate/server/grant"
	"github.com/tollgate/tollgate/server/secret"
	"github.com/tollgate/tollgate/store"
)

// Limits on client fields.
const (
	maxNameLen  = 200
	maxListLen  = 64
	maxValueLen = 200
	minTokenTTL = time.Minute
	maxTokenTTL = 24 * time.Hour
	// maxRateLimit bounds a client's own rate limit (requests/s).
	maxRateLimit = 1_000_000
)

// ClientSpec is what a caller may set on a client.
type ClientSpec struct {
	Name            string
	GrantTypes      []string
	Scopes          []string
	DefaultScopes   []string
	Audience        []string
	Roles           []string
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	// RateLimit is requests per second; 0 means the server's limit.
	RateLimit int
	// Disabled creates the client disabled: it gets no token until enabled.
	Disabled bool
	// DPoPBound requires a DPoP proof with every token request (RFC 9449
	// §5.2).
	DPoPBound bool
	// AuthMethod is a store.AuthMethods value ("": client_secret_basic).
	// A private_key_jwt client has no secret and exactly one of JWKS (a
	// public JWK Set) and JWKSURI.
	AuthMethod string
	JWKS       []byte
	JWKSURI    string
	// FederatedIssuer binds a private_key_jwt client to a trusted
	// issuer's tokens instead of keys of its own: those whose sub matches
	// FederatedSubject (exact, or * for any run of characters) and whose
	// claims hold every FederatedClaims value.
	FederatedIssuer  string
	FederatedSubject string
	FederatedClaims  map[string]string
	// Claims and PrivateClaims are JSON objects of extra claims of the
	// client's tokens (null or absent: none); PrivateClaims go only into
	// tokens for an encrypted audience. Their names differ from each
	// other and from the claims Tollgate sets.
	Claims        json.RawMessage
	PrivateClaims json.RawMessage
}

// CreateClient validates spec, generates the client's ID and secret, and
// stores the client with only the secret's hash. The secret is returned
// once and cannot be recovered later.
func (r *Registry) CreateClient(ctx context.Context, spec ClientSpec) (*store.Client, string, error) {
	ctx, done := r.begin(ctx)
	defer done()
	if len(spec.GrantTypes) == 0 {
		spec.GrantTypes = []string{grant.ClientCredentials}
	}
	claims, private, err := validateClient(spec)
	if err != nil {
		return nil, "", err
	}
	if err := r.checkBinding(ctx, spec); err != nil {
		return nil, "", err
	}
	// A private_key_jwt client gets no secret: there is nothing to leak.
	var sec string
	var hash []byte
	if spec.AuthMethod != store.AuthPrivateKeyJWT {
		sec = secret.Generate(secret.ClientSecretPrefix)
		hash = r.hasher.Hash(sec)
	}
	now := r.now().UTC()
	c := &store.Client{
		ID:               secret.NewID(secret.ClientIDPrefix),
		Name:             spec.Name,
		SecretHash:       hash,
		GrantTypes:       spec.GrantTypes,
		Scopes:           spec.Scopes,
		DefaultScopes:    spec.DefaultScopes,
		Audience:         spec.Audience,
		Roles:            spec.Roles,
		AccessTokenTTL:   spec.AccessTokenTTL,
		RefreshTokenTTL:  spec.RefreshTokenTTL,
		RateLimit:        spec.RateLimit,
		Disabled:         spec.Disabled,
		DPoPBound:        spec.DPoPBound,
		AuthMethod:       spec.AuthMethod,
		JWKS:             spec.JWKS,
		JWKSURI:          spec.JWKSURI,
		FederatedIssuer:  spec.FederatedIssuer,
		FederatedSubject: spec.FederatedSubject,
		FederatedClaims:  spec.FederatedClaims,
		Claims:           claims,
		PrivateClaims:    private,
		CreatedAt:        now,
		UpdatedAt:        now,
	}
	if err := r.raiseClientMark(ctx, c); err != nil {
		return nil, "", err
	}
	if err := r.clients.CreateClient(ctx, c); err != nil {
		return nil, "", conflict(err, "client_name", "client name "+spec.Name)
	}
	return c, sec, r.record(ctx, "client.create", target(store.SubjectClient, c.ID), nil, ViewClient(c))
}

// validateClient checks s and returns its claims compacted.
func validateClient(s ClientSpec) (claims, private []byte, err error) {
	var v ValidationError
	if s.Name == "" || len(s.Name) > maxNameLen {
		v.add("client_name", "must be 1 to %d characters", maxNameLen)
	}
	for _, gt := range s.GrantTypes {
		if !slices.Contains(grant.Supported, gt) {
			v.add("grant_types", "unknown grant type %q; use client_credentials, password or refresh_token", printable(gt))
		}
	}
	if slices.Contains(s.GrantTypes, grant.RefreshToken) && !slices.Contains(s.GrantTypes, grant.Password) {
		v.add("grant_types", "refresh_token is only useful with password: client_credentials never returns a refresh token (RFC 6749 §4.4.3)")
	}
	checkScopes(&v, "scope", s.Scopes)
	checkScopes(&v, "default_scope", s.DefaultScopes)
	for _, d := range s.DefaultScopes {
		if !slices.Contains(s.Scopes, d) {
			v.add("default_scope", "%q is not among the client's scopes", printable(d))
		}
	}
	checkValues(&v, "audience", s.Audience)
	checkValues(&v, "roles", s.Roles)
	checkTTL(&v, "access_token_ttl", s.AccessTokenTTL, minTokenTTL, maxTokenTTL)
	checkTTL(&v, "refresh_token_ttl", s.RefreshTokenTTL, minTokenTTL, 365*24*time.Hour)
	if s.RateLimit < 0 || s.RateLimit > maxRateLimit {
		v.add("rate_limit", "must be between 0 (the server's limit) and %d requests per second", maxRateLimit)
	}
	checkAuthMethod(&v, s)
	claims, private = checkSubjectClaims(&v, s.Claims, s.PrivateClaims)
	return claims, private, v.err()
}

// checkAuthMethod checks the method and the keys that go with it (RFC 7591
// §2: jwks and jwks_uri are exclusive).
func checkAuthMethod(v *ValidationError, s ClientSpec) {
	switch s.AuthMethod {
	case "", store.AuthClientSecretBasic, store.AuthClientSecretPost:
		if len(s.JWKS) > 0 || s.JWKSURI != "" {
			v.add("token_endpoint_auth_method", "jwks and jwks_uri are only for private_key_jwt clients; set token_endpoint_auth_method to private_key_jwt")
		}
		// A binding on a secret client would be stored and never used:
		// refuse it rather than let the admin believe it is in force.
		if s.FederatedIssuer != "" || s.FederatedSubject != "" || len(s.FederatedClaims) > 0 {
			v.add("federated_issuer", "a federation binding is only for private_key_jwt clients; set token_endpoint_auth_method to private_key_jwt")
		}
		return
	case store.AuthPrivateKeyJWT:
	default:
		v.add("token_endpoint_auth_method", "must be client_secret_basic, client_secret_post or private_key_jwt")
		return
	}
	sources := 0
	for _, given := range []bool{len(s.JWKS) > 0, s.JWKSURI != "", s.FederatedIssuer != ""} {
		if given {
			sources++
		}
	}
	switch {
	case sources > 1:
		v.add("jwks", "give one of jwks, jwks_uri and federated_issuer, not several")
	case s.FederatedIssuer != "":
		checkBindingFields(v, s)
	case len(s.JWKS) > 0:
		if _, err := assertion.ParseKeySet(s.JWKS); err != nil {
			v.add("jwks", "%s", err.Error())
		}
	case s.JWKSURI != "":
		if len(s.JWKSURI) > 2048 {
			v.add("jwks_uri", "at most 2048 characters")
		} else if err := assertion.CheckURI(s.JWKSURI); err != nil {
			v.add("jwks_uri", "%s", err.Error())
		}
	default:
		v.add("jwks", "a private_key_jwt client needs its public keys (jwks, a JWK Set, or jwks_uri) or a trusted issuer (federated_issuer)")
	}
}

// maxClaimConditions bounds a binding's claim conditions.
const maxClaimConditions = 16

// checkBindingFields checks a federation binding's own fields.
func checkBindingFields(v *ValidationError, s ClientSpec) {
	if s.FederatedSubject == "" || len(s.FederatedSubject) > 2*maxValueLen || printable(s.FederatedSubject) != s.FederatedSubject {
		v.add("federated_subject", "must be the sub of the workload's tokens, exact or with * for any run of characters (e.g. system:serviceaccount:payments:worker), at most %d printable characters", 2*maxValueLen)
	} else if strings.HasPrefix(s.FederatedSubject, "*") {
		// Every workload of the platform can get a token with Tollgate's
		// audience; a pattern without a literal start binds all of them.
		v.add("federated_subject", "must start with a literal part (e.g. system:serviceaccount:payments:* or repo:acme/deploy:*): a leading * would accept every workload of the issuer")
	}
	if len(s.FederatedClaims) > maxClaimConditions {
		v.add("federated_claims", "at most %d conditions", maxClaimConditions)
	}
	for k, val := range s.FederatedClaims {
		if k == "" || len(k) > maxValueLen || printable(k) != k || len(val) > maxValueLen || printable(val) != val {
			v.add("federated_claims", "names and values must be printable, at most %d characters", maxValueLen)
			return
		}
		if val == "" {
			// Often an unset shell variable (--federated-claim ref=$REF).
			v.add("federated_claims", "claim %q has an empty value: give the value the workload's tokens must carry", k)
			return
		}
	}
}

func checkScopes(v *ValidationError, field string, scopes []string) {
	if len(scopes) > maxListLen {
		v.add(field, "at most %d values", maxListLen)
		return
	}
	for _, s := range scopes {
		got, err := grant.ParseScope(s)
		if err != nil || len(got) != 1 || len(s) > maxValueLen {
			v.add(field, "%q is not a valid scope: use printable ASCII without spaces, quotes or backslashes", printable(s))
		}
	}
}

func checkValues(v *ValidationError, field string, vals []string) {
	if len(vals) > maxListLen {
		v.add(field, "at most %d values", maxListLen)
		return
	}
	for _, s := range vals {
		if s == "" || len(s) > maxValueLen || printable(s) != s {
			v.add(field, "values must be 1 to %d printable characters", maxValueLen)
			return
		}
	}
}

func checkTTL(v *ValidationError, field string, d, lo, hi time.Duration) {
	if d != 0 && (d < lo || d > hi) {
		v.add(field, "must be between %s and %s (or 0 for the server default)", lo, hi)
	}
}

// printable returns s if it is short printable ASCII, else a placeholder,
// so that error messages never echo control bytes.
func printable(s string) string {
	if len(s) > maxValueLen {
		return "(too long)"
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return "(unprintable)"
		}
	}
	return s
}
