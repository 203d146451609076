package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/tollgate/tollgate/store"
)

// subjectKeyRow is the live model of table subject_api_keys (see
// migrationAPIKeySubjects): keys of owner kind OwnerSubject.
type subjectKeyRow struct {
	ID         string     `gorm:"column:id;primaryKey"`
	ClientID   string     `gorm:"column:client_id"`
	Subject    string     `gorm:"column:subject"`
	Name       string     `gorm:"column:name"`
	Scopes     string     `gorm:"column:scopes"`
	Roles      string     `gorm:"column:roles"`
	Claims     string     `gorm:"column:claims"`
	Hash       []byte     `gorm:"column:hash"`
	Prefix     string     `gorm:"column:prefix"`
	Last4      string     `gorm:"column:last4"`
	ExpiresAt  *time.Time `gorm:"column:expires_at"`
	CreatedAt  time.Time  `gorm:"column:created_at;autoCreateTime:false"`
	LastUsedAt *time.Time `gorm:"column:last_used_at"`
	RevokedAt  *time.Time `gorm:"column:revoked_at"`
}

func (subjectKeyRow) TableName() string { return "subject_api_keys" }

func subjectKeyToRow(k *store.APIKey) subjectKeyRow {
	return subjectKeyRow{
		ID: k.ID, ClientID: k.ClientID, Subject: k.OwnerID, Name: k.Name,
		Scopes: encodeList(k.Scopes), Roles: encodeList(k.Roles), Claims: string(k.Claims),
		Hash: nonNilBytes(cloneBytes(k.Hash)), Prefix: k.Prefix, Last4: k.Last4,
		ExpiresAt: dbNullTime(k.ExpiresAt), CreatedAt: dbTime(k.CreatedAt),
		LastUsedAt: dbNullTime(k.LastUsedAt), RevokedAt: dbNullTime(k.RevokedAt),
	}
}

func (r *subjectKeyRow) toAPIKey() (*store.APIKey, error) {
	var d listDecoder
	k := &store.APIKey{
		ID: r.ID, OwnerKind: store.OwnerSubject, OwnerID: r.Subject, ClientID: r.ClientID, Name: r.Name,
		Scopes: d.list("scopes", r.Scopes), Roles: d.list("roles", r.Roles),
		Hash: cloneBytes(r.Hash), Prefix: r.Prefix, Last4: r.Last4,
		ExpiresAt: fromDBNullTime(r.ExpiresAt), CreatedAt: fromDBTime(r.CreatedAt),
		LastUsedAt: fromDBNullTime(r.LastUsedAt), RevokedAt: fromDBNullTime(r.RevokedAt),
	}
	if r.Claims != "" {
		k.Claims = []byte(r.Claims)
	}
	return k, d.err
}

// keyTaken reports ErrConflict when the other API key table already holds
// k's ID or hash: the two tables share one space of IDs and hashes.
func keyTaken(tx *gorm.DB, other any, k *store.APIKey) error {
	var n int64
	if err := tx.Model(other).Where("id = ? OR hash = ?", k.ID, nonNilBytes(k.Hash)).Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("%w: API key ID or hash already stored", store.ErrConflict)
	}
	return nil
}

// createSubjectKey stores an OwnerSubject key; the foreign key on
// client_id refuses an unknown client.
func (s *Store) createSubjectKey(ctx context.Context, k *store.APIKey) error {
	if k.ClientID == "" {
		return errors.New("sqlstore: create api key: a subject's key needs its ClientID")
	}
	row := subjectKeyToRow(k)
	return s.writeChange(ctx, "create api key", store.ChangeAPIKey, k.ID, func(tx *gorm.DB) error {
		if err := keyTaken(tx, &apiKeyRow{}, k); err != nil {
			return err
		}
		err := tx.Create(&row).Error
		if isForeignKeyViolation(err) {
			return fmt.Errorf("%w: API key's client does not exist: %w", store.ErrNotFound, err)
		}
		return err
	})
}

// getSubjectKey is getAPIKey's second table.
func (s *Store) getSubjectKey(ctx context.Context, op, where string, arg any) (*store.APIKey, error) {
	var row subjectKeyRow
	if err := s.read(ctx).Where(where, arg).Take(&row).Error; err != nil {
		return nil, wrapErr(op, err)
	}
	k, err := row.toAPIKey()
	return k, wrapErr(op, err)
}

// ListSubjectAPIKeys returns clientID's subject keys (of one subject, or
// all) in ID order after the cursor.
func (s *Store) ListSubjectAPIKeys(ctx context.Context, clientID, subject, after string, limit int) ([]store.APIKey, error) {
	if clientID == "" {
		return nil, errors.New("sqlstore: list subject api keys: empty client ID")
	}
	q := s.read(ctx).Where("client_id = ?", clientID)
	if subject != "" {
		q = q.Where("subject = ?", subject)
	}
	return listSubjectKeys(q, after, limit)
}

func listSubjectKeys(q *gorm.DB, after string, limit int) ([]store.APIKey, error) {
	if limit <= 0 {
		return []store.APIKey{}, nil
	}
	var rows []subjectKeyRow
	if err := q.Where("id > ?", after).Order("id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, wrapErr("list subject api keys", err)
	}
	out := make([]store.APIKey, 0, len(rows))
	for i := range rows {
		k, err := rows[i].toAPIKey()
		if err != nil {
			return nil, wrapErr("list subject api keys", err)
		}
		out = append(out, *k)
	}
	return out, nil
}

// mergeKeys merges two ID-ordered pages into the first limit keys.
func mergeKeys(a, b []store.APIKey, limit int) []store.APIKey {
	out := append(a, b...)
	slices.SortFunc(out, func(x, y store.APIKey) int { return strings.Compare(x.ID, y.ID) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// CountActiveAPIKeys counts one owner's keys that are neither revoked nor
// expired at now.
func (s *Store) CountActiveAPIKeys(ctx context.Context, kind store.OwnerKind, clientID, ownerID string, now time.Time) (int, error) {
	var q *gorm.DB
	if kind == store.OwnerSubject {
		q = s.read(ctx).Model(&subjectKeyRow{}).Where("client_id = ? AND subject = ?", clientID, ownerID)
	} else {
		col, err := ownerColumn(kind)
		if err != nil {
			return 0, fmt.Errorf("sqlstore: count api keys: %w", err)
		}
		q = s.read(ctx).Model(&apiKeyRow{}).Where(col+" = ?", ownerID)
	}
	var n int64
	err := q.Where("revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)", dbTime(now)).Count(&n).Error
	return int(n), wrapErr("count api keys", err)
}

// UpdateAPIKey replaces a key's name, scopes, roles and claims.
func (s *Store) UpdateAPIKey(ctx context.Context, k *store.APIKey) error {
	return s.writeChange(ctx, "update api key", store.ChangeAPIKey, k.ID, func(tx *gorm.DB) error {
		err := updateByID(tx, &subjectKeyRow{}, k.ID, map[string]any{
			"name": k.Name, "scopes": encodeList(k.Scopes), "roles": encodeList(k.Roles), "claims": string(k.Claims),
		})
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		var n int64
		if err := tx.Model(&apiKeyRow{}).Where("id = ?", k.ID).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 && (len(k.Roles) > 0 || len(k.Claims) > 0) {
			return errors.New("only a subject's API key has roles or claims")
		}
		return updateByID(tx, &apiKeyRow{}, k.ID, map[string]any{"name": k.Name, "scopes": encodeList(k.Scopes)})
	})
}
