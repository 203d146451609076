package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate/tollgate/server/registry"
	"github.com/tollgate/tollgate/store"
)

func (r remote) updateClient(ctx context.Context, id string, p registry.ClientPatch) (registry.ClientView, error) {
	in := map[string]any{}
	for k, v := range map[string]*[]string{"grant_types": p.GrantTypes, "audience": p.Audience, "roles": p.Roles} {
		if v != nil {
			in[k] = nonNilSlice(*v)
		}
	}
	for k, v := range map[string]*[]string{"scope": p.Scopes, "default_scope": p.DefaultScopes} {
		if v != nil {
			in[k] = strings.Join(*v, " ")
		}
	}
	for k, v := range map[string]*time.Duration{"access_token_ttl": p.AccessTokenTTL, "refresh_token_ttl": p.RefreshTokenTTL} {
		if v != nil {
			in[k] = int64(*v / time.Second)
		}
	}
	if p.Name != nil {
		in["client_name"] = *p.Name
	}
	if p.RateLimit != nil {
		in["rate_limit"] = *p.RateLimit
	}
	if p.Disabled != nil {
		in["disabled"] = *p.Disabled
	}
	if p.DPoPBound != nil {
		in["dpop_bound_access_tokens"] = *p.DPoPBound
	}
	if p.AuthMethod != nil {
		in["token_endpoint_auth_method"] = *p.AuthMethod
	}
	if p.JWKS != nil {
		in["jwks"] = json.RawMessage(*p.JWKS)
	}
	if p.JWKSURI != nil {
		in["jwks_uri"] = *p.JWKSURI
	}
	if p.FederatedIssuer != nil {
		in["federated_issuer"] = *p.FederatedIssuer
	}
	if p.FederatedSubject != nil {
		in["federated_subject"] = *p.FederatedSubject
	}
	if p.FederatedClaims != nil {
		in["federated_claims"] = *p.FederatedClaims
	}
	claimFields(in, p.Claims, p.PrivateClaims)
	var v registry.ClientView
	return v, r.do(ctx, http.MethodPatch, "/clients/"+url.PathEscape(id), in, &v)
}

func (r remote) rotateClientSecret(ctx context.Context, id string, overlap time.Duration) (secretRotation, error) {
	var out secretRotation
	in := map[string]int64{"overlap": int64(overlap / time.Second)}
	return out, r.do(ctx, http.MethodPost, "/clients/"+url.PathEscape(id)+"/secret", in, &out)
}

func (r remote) updateUser(ctx context.Context, id string, p registry.UserPatch) (registry.UserView, error) {
	in := map[string]any{}
	if p.Roles != nil {
		in["roles"] = nonNilSlice(*p.Roles)
	}
	if p.Disabled != nil {
		in["disabled"] = *p.Disabled
	}
	claimFields(in, p.Claims, p.PrivateClaims)
	var v registry.UserView
	return v, r.do(ctx, http.MethodPatch, "/users/"+url.PathEscape(id), in, &v)
}

func (r remote) setPassword(ctx context.Context, id, password string) error {
	return r.do(ctx, http.MethodPut, "/users/"+url.PathEscape(id)+"/password", map[string]string{"password": password}, nil)
}

func (r remote) getAPIKey(ctx context.Context, id string) (registry.APIKeyView, error) {
	var v registry.APIKeyView
	return v, r.do(ctx, http.MethodGet, "/api-keys/"+url.PathEscape(id), nil, &v)
}

func (r remote) auditPage(ctx context.Context, f store.AuditFilter, after int64, limit int) ([]auditEntry, error) {
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if after > 0 {
		q.Set("cursor", strconv.FormatInt(after, 10))
	}
	if f.Target != "" {
		q.Set("target", f.Target)
	}
	if f.Action != "" {
		q.Set("action", f.Action)
	}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.UTC().Format(time.RFC3339Nano))
	}
	var p struct {
		Items []auditEntry `json:"items"`
	}
	return p.Items, r.do(ctx, http.MethodGet, "/audit?"+q.Encode(), nil, &p)
}
