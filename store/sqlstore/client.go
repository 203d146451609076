package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/tollgate/tollgate/store"
)

// clientRow is the live model of table clients (see migrationInitial for
// its definition). Timestamps are set by the caller, never by GORM.
type clientRow struct {
	ID                  string     `gorm:"column:id;primaryKey"`
	Name                string     `gorm:"column:name"`
	SecretHash          []byte     `gorm:"column:secret_hash"`
	PrevSecretHash      []byte     `gorm:"column:prev_secret_hash"`
	PrevSecretExpiresAt *time.Time `gorm:"column:prev_secret_expires_at"`
	GrantTypes          string     `gorm:"column:grant_types"`
	Scopes              string     `gorm:"column:scopes"`
	DefaultScopes       string     `gorm:"column:default_scopes"`
	Audience            string     `gorm:"column:audience"`
	Roles               string     `gorm:"column:roles"`
	AccessTokenTTLNs    int64      `gorm:"column:access_token_ttl_ns"`
	RefreshTokenTTLNs   int64      `gorm:"column:refresh_token_ttl_ns"`
	MaxAccessTokenTTLNs int64      `gorm:"column:max_access_token_ttl_ns"`
	TokensRevokedAt     *time.Time `gorm:"column:tokens_revoked_at"`
	RateLimit           int        `gorm:"column:rate_limit"`
	Disabled            bool       `gorm:"column:disabled"`
	DPoPBound           bool       `gorm:"column:dpop_bound"`
	AuthMethod          string     `gorm:"column:token_endpoint_auth_method"`
	JWKS                string     `gorm:"column:jwks"`
	JWKSURI             string     `gorm:"column:jwks_uri"`
	FederatedIssuer     string     `gorm:"column:federated_issuer"`
	FederatedSubject    string     `gorm:"column:federated_subject"`
	FederatedClaims     string     `gorm:"column:federated_claims"`
	Claims              string     `gorm:"column:claims"`
	PrivateClaims       string     `gorm:"column:private_claims"`
	CreatedAt           time.Time  `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt           time.Time  `gorm:"column:updated_at;autoUpdateTime:false"`
}

func (clientRow) TableName() string { return "clients" }

func clientToRow(c *store.Client) clientRow {
	return clientRow{
		ID:                  c.ID,
		Name:                c.Name,
		SecretHash:          nonNilBytes(c.SecretHash),
		PrevSecretHash:      cloneBytes(c.PrevSecretHash),
		PrevSecretExpiresAt: dbNullTime(c.PrevSecretExpiresAt),
		GrantTypes:          encodeList(c.GrantTypes),
		Scopes:              encodeList(c.Scopes),
		DefaultScopes:       encodeList(c.DefaultScopes),
		Audience:            encodeList(c.Audience),
		Roles:               encodeList(c.Roles),
		AccessTokenTTLNs:    int64(c.AccessTokenTTL),
		RefreshTokenTTLNs:   int64(c.RefreshTokenTTL),
		MaxAccessTokenTTLNs: int64(c.MaxAccessTokenTTL),
		TokensRevokedAt:     dbNullTime(c.TokensRevokedAt),
		RateLimit:           c.RateLimit,
		Disabled:            c.Disabled,
		DPoPBound:           c.DPoPBound,
		AuthMethod:          c.AuthMethod,
		JWKS:                string(c.JWKS),
		JWKSURI:             c.JWKSURI,
		FederatedIssuer:     c.FederatedIssuer,
		FederatedSubject:    c.FederatedSubject,
		FederatedClaims:     encodeClaims(c.FederatedClaims),
		Claims:              string(c.Claims),
		PrivateClaims:       string(c.PrivateClaims),
		CreatedAt:           dbTime(c.CreatedAt),
		UpdatedAt:           dbTime(c.UpdatedAt),
	}
}

func (r *clientRow) toClient() (*store.Client, error) {
	var d listDecoder
	c := &store.Client{
		ID:                  r.ID,
		Name:                r.Name,
		SecretHash:          cloneBytes(r.SecretHash),
		PrevSecretHash:      cloneBytes(r.PrevSecretHash),
		PrevSecretExpiresAt: fromDBNullTime(r.PrevSecretExpiresAt),
		GrantTypes:          d.list("grant_types", r.GrantTypes),
		Scopes:              d.list("scopes", r.Scopes),
		DefaultScopes:       d.list("default_scopes", r.DefaultScopes),
		Audience:            d.list("audience", r.Audience),
		Roles:               d.list("roles", r.Roles),
		AccessTokenTTL:      time.Duration(r.AccessTokenTTLNs),
		RefreshTokenTTL:     time.Duration(r.RefreshTokenTTLNs),
		MaxAccessTokenTTL:   time.Duration(r.MaxAccessTokenTTLNs),
		TokensRevokedAt:     fromDBNullTime(r.TokensRevokedAt),
		RateLimit:           r.RateLimit,
		Disabled:            r.Disabled,
		DPoPBound:           r.DPoPBound,
		AuthMethod:          r.AuthMethod,
		JWKSURI:             r.JWKSURI,
		FederatedIssuer:     r.FederatedIssuer,
		FederatedSubject:    r.FederatedSubject,
		Claims:              claimsBytes(r.Claims),
		PrivateClaims:       claimsBytes(r.PrivateClaims),
		CreatedAt:           fromDBTime(r.CreatedAt),
		UpdatedAt:           fromDBTime(r.UpdatedAt),
	}
	if r.JWKS != "" {
		c.JWKS = []byte(r.JWKS)
	}
	if r.FederatedClaims != "" {
		if err := json.Unmarshal([]byte(r.FederatedClaims), &c.FederatedClaims); err != nil {
			return nil, fmt.Errorf("decode federated_claims: %w", err)
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	return c, nil
}

// CreateClient stores c. ErrConflict if its ID or Name is taken.
func (s *Store) CreateClient(ctx context.Context, c *store.Client) error {
	row := clientToRow(c)
	return s.writeChange(ctx, "create client", store.ChangeClient, c.ID, func(tx *gorm.DB) error {
		return tx.Create(&row).Error
	})
}

// GetClient returns the client with that ID, or ErrNotFound.
func (s *Store) GetClient(ctx context.Context, id string) (*store.Client, error) {
	var row clientRow
	if err := s.read(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, wrapErr("get client", err)
	}
	c, err := row.toClient()
	return c, wrapErr("get client", err)
}

// ListClients returns up to limit clients ordered by ID (byte order),
// starting after the ID given as cursor ("" for the first page). A limit
// of zero or less returns none.
func (s *Store) ListClients(ctx context.Context, after string, limit int) ([]store.Client, error) {
	if limit <= 0 {
		return []store.Client{}, nil
	}
	var rows []clientRow
	err := s.read(ctx).Where("id > ?", after).Order("id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, wrapErr("list clients", err)
	}
	out := make([]store.Client, 0, len(rows))
	for i := range rows {
		c, err := rows[i].toClient()
		if err != nil {
			return nil, wrapErr("list clients", err)
		}
		out = append(out, *c)
	}
	return out, nil
}

// UpdateClient replaces every field of the stored client but ID and
// CreatedAt; MaxAccessTokenTTL only rises, in the same statement, so two
// concurrent updates cannot lower it. ErrNotFound if it does not exist; ErrConflict if the new Name
// is taken by another client.
func (s *Store) UpdateClient(ctx context.Context, c *store.Client) error {
	row := clientToRow(c)
	fields := map[string]any{
		"name":                   row.Name,
		"secret_hash":            row.SecretHash,
		"prev_secret_hash":       row.PrevSecretHash,
		"prev_secret_expires_at": row.PrevSecretExpiresAt,
		"grant_types":            row.GrantTypes,
		"scopes":                 row.Scopes,
		"default_scopes":         row.DefaultScopes,
		"audience":               row.Audience,
		"roles":                  row.Roles,
		"access_token_ttl_ns":    row.AccessTokenTTLNs,
		"refresh_token_ttl_ns":   row.RefreshTokenTTLNs,
		"max_access_token_ttl_ns": gorm.Expr("CASE WHEN max_access_token_ttl_ns > ? THEN max_access_token_ttl_ns ELSE ? END",
			row.MaxAccessTokenTTLNs, row.MaxAccessTokenTTLNs),
		"updated_at":                 row.UpdatedAt,
		"tokens_revoked_at":          row.TokensRevokedAt,
		"rate_limit":                 row.RateLimit,
		"disabled":                   row.Disabled,
		"dpop_bound":                 row.DPoPBound,
		"token_endpoint_auth_method": row.AuthMethod,
		"jwks":                       row.JWKS,
		"jwks_uri":                   row.JWKSURI,
		"federated_issuer":           row.FederatedIssuer,
		"federated_subject":          row.FederatedSubject,
		"federated_claims":           row.FederatedClaims,
		"claims":                     row.Claims,
		"private_claims":             row.PrivateClaims,
	}
	return s.writeChange(ctx, "update client", store.ChangeClient, row.ID, func(tx *gorm.DB) error {
		return updateByID(tx, &clientRow{}, row.ID, fields)
	})
}

// DeleteClient removes the client, or returns ErrNotFound.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	// Its keys go with it (foreign keys): both kinds changed.
	return s.writeChange(ctx, "delete client", store.ChangeClient, id, func(tx *gorm.DB) error {
		if err := deleteByID(tx, &clientRow{}, id); err != nil {
			return err
		}
		return s.recordChange(tx, store.ChangeAPIKey, "")
	})
}

// updateByID sets fields on the row of model's table with that id;
// ErrNotFound when no row matched.
func updateByID(tx *gorm.DB, model any, id string, fields map[string]any) error {
	res := tx.Model(model).Where("id = ?", id).Updates(fields)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return store.ErrNotFound
	}
	return nil
}

// deleteByID deletes the row of model's table with that id; ErrNotFound
// when there was none.
func deleteByID(tx *gorm.DB, model any, id string) error {
	res := tx.Where("id = ?", id).Delete(model)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return store.ErrNotFound
	}
	return nil
}

// encodeClaims writes claim conditions as a JSON object, none as "".
func encodeClaims(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	b, _ := json.Marshal(m) // a map of strings always encodes
	return string(b)
}

// claimsBytes reads a JSON object column of extra claims; "" is none (nil),
// as for subject_api_keys.claims.
func claimsBytes(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}
