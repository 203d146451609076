package registry

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tollgate/tollgate/store"
)

// Bounds on what an application stores on its subjects' keys.
const (
	// maxSubjectLen bounds owner_id: the app's own user id.
	maxSubjectLen = 256
	// maxClaimsLen bounds the compacted JSON of a key's claims: they ride in
	// every access token the key buys.
	maxClaimsLen = 1024
	maxClaims    = 16
	maxClaimName = 64
)

// registeredClaims are the claim names Tollgate sets itself or that carry
// a meaning a resource server would trust (RFC 7519 §4.1, RFC 9068 §2.2,
// RFC 8693 §4, RFC 7800, OpenID Connect Core §2): a key's extra claims
// never use them.
var registeredClaims = []string{
	"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "typ", "cty",
	"client_id", "scope", "scp", "roles", "groups", "entitlements", "api_key_id",
	"auth_time", "acr", "amr", "azp", "nonce", "sid", "act", "may_act", "cnf",
}

// checkSubject validates an application's id for its own user: 1 to
// maxSubjectLen bytes of UTF-8 without control characters (it becomes
// the tokens' "sub").
func checkSubject(v *ValidationError, id string) {
	if id == "" || len(id) > maxSubjectLen || !utf8.ValidString(id) || strings.ContainsFunc(id, unicode.IsControl) {
		v.add("owner_id", "must be 1 to %d bytes of UTF-8 without control characters", maxSubjectLen)
	}
}

// checkClaims validates a key's extra claims (field "claims") and returns
// them compacted, as checkClaimsField.
func checkClaims(v *ValidationError, raw json.RawMessage) []byte {
	return checkClaimsField(v, "claims", raw)
}

// appClient loads the application client that issues a subject's key.
func (r *Registry) appClient(ctx context.Context, id string) (*store.Client, error) {
	c, err := r.clients.GetClient(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && id == "") {
		return nil, &ValidationError{Fields: []FieldError{{Field: "client_id", Message: "no such client"}}}
	}
	return c, err
}

// checkSubjectGrants checks a subject key's scopes and roles against its
// application client: at most the client's, and never Tollgate's own
// scopes (a subject's token must not administer anything).
func checkSubjectGrants(v *ValidationError, app *store.Client, scopes, roles []string) {
	for _, s := range scopes {
		switch {
		case strings.HasPrefix(s, reservedScopePrefix):
			v.add("scope", "%q is reserved for clients; a subject's key cannot carry it", printable(s))
		case !slices.Contains(app.Scopes, s):
			v.add("scope", "%q is not among the application client's scopes", printable(s))
		}
	}
	checkValues(v, "roles", roles)
	for _, role := range roles {
		if !slices.Contains(app.Roles, role) {
			v.add("roles", "%q is not among the application client's roles", printable(role))
		}
	}
}

// appScopes is the default scope of a subject's key: the application
// client's scopes outside tollgate:*.
func appScopes(app *store.Client) []string {
	var out []string
	for _, s := range app.Scopes {
		if !strings.HasPrefix(s, reservedScopePrefix) {
			out = append(out, s)
		}
	}
	return out
}

// checkKeyLimit refuses a new key when its owner already has the
// configured number of active keys. Concurrent creations may overshoot it
// by the number racing; it is a hygiene limit, not a security boundary.
func (r *Registry) checkKeyLimit(ctx context.Context, spec APIKeySpec) error {
	if r.maxKeys <= 0 {
		return nil
	}
	n, err := r.apiKeys.CountActiveAPIKeys(ctx, spec.OwnerKind, spec.ClientID, spec.OwnerID, r.now())
	if err != nil {
		return err
	}
	if n >= r.maxKeys {
		return &ValidationError{Conflict: true, Fields: []FieldError{{Field: "owner_id",
			Message: "this owner already has the maximum number of active API keys (" + strconv.Itoa(r.maxKeys) + "); revoke one first"}}}
	}
	return nil
}

// RevokeSubjectKeys revokes every active key an application issued for
// one of its subjects (the app deleted that user): later exchanges fail,
// and the tokens the keys bought become inactive on every node, as for
// RevokeAPIKey. It returns the number of keys revoked; a subject without
// keys is not an error.
func (r *Registry) RevokeSubjectKeys(ctx context.Context, clientID, subject string) (int, error) {
	ctx, done := r.begin(ctx)
	defer done()
	var v ValidationError
	checkSubject(&v, subject)
	if clientID == "" {
		v.add("client_id", "name the application client")
	}
	if err := v.err(); err != nil {
		return 0, err
	}
	ttl, err := r.longestAccessTTL(ctx)
	if err != nil {
		return 0, err
	}
	now := r.now().UTC()
	var ids []string
	for after := ""; ; {
		page, err := r.apiKeys.ListSubjectAPIKeys(ctx, clientID, subject, after, 500)
		if err != nil {
			return 0, err
		}
		var rs []*store.Revocation
		for _, k := range page {
			if !k.RevokedAt.IsZero() {
				continue
			}
			if err := r.apiKeys.RevokeAPIKey(ctx, k.ID, now); err != nil && !errors.Is(err, store.ErrNotFound) {
				return 0, err
			}
			rs = append(rs, r.subjectRevocation(store.SubjectAPIKey+k.ID, now, ttl))
			ids = append(ids, k.ID)
		}
		if len(rs) > 0 {
			if err := r.revocations.RevokeAll(ctx, rs); err != nil {
				return 0, err
			}
		}
		if len(page) < 500 {
			break
		}
		after = page[len(page)-1].ID
	}
	after := map[string]any{"revoked": ids, "revoked_at": now}
	return len(ids), r.record(ctx, "apikey.revoke_subject", target("subject:", clientID+"/"+subject), nil, after)
}
