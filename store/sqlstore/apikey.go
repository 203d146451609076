package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	gosqlite "github.com/glebarez/go-sqlite"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/tollgate/tollgate/store"
)

// pgForeignKeyViolation is the SQLSTATE of an insert naming a missing
// parent row.
const pgForeignKeyViolation = "23503"

var _ store.APIKeyStore = (*Store)(nil)

// apiKeyRow is the live model of table api_keys (see migrationAPIKeys).
// Exactly one of OwnerUserID and OwnerClientID is set.
type apiKeyRow struct {
	ID            string     `gorm:"column:id;primaryKey"`
	OwnerUserID   *string    `gorm:"column:owner_user_id"`
	OwnerClientID *string    `gorm:"column:owner_client_id"`
	Name          string     `gorm:"column:name"`
	Scopes        string     `gorm:"column:scopes"`
	Hash          []byte     `gorm:"column:hash"`
	Prefix        string     `gorm:"column:prefix"`
	Last4         string     `gorm:"column:last4"`
	ExpiresAt     *time.Time `gorm:"column:expires_at"`
	CreatedAt     time.Time  `gorm:"column:created_at;autoCreateTime:false"`
	LastUsedAt    *time.Time `gorm:"column:last_used_at"`
	RevokedAt     *time.Time `gorm:"column:revoked_at"`
}

func (apiKeyRow) TableName() string { return "api_keys" }

// ownerColumn names the api_keys column that holds an owner of kind.
func ownerColumn(kind store.OwnerKind) (string, error) {
	switch kind {
	case store.OwnerUser:
		return "owner_user_id", nil
	case store.OwnerClient:
		return "owner_client_id", nil
	}
	return "", fmt.Errorf("unknown API key owner kind %q", kind)
}

func apiKeyToRow(k *store.APIKey) (apiKeyRow, error) {
	row := apiKeyRow{
		ID:         k.ID,
		Name:       k.Name,
		Scopes:     encodeList(k.Scopes),
		Hash:       nonNilBytes(cloneBytes(k.Hash)),
		Prefix:     k.Prefix,
		Last4:      k.Last4,
		ExpiresAt:  dbNullTime(k.ExpiresAt),
		CreatedAt:  dbTime(k.CreatedAt),
		LastUsedAt: dbNullTime(k.LastUsedAt),
		RevokedAt:  dbNullTime(k.RevokedAt),
	}
	owner := k.OwnerID
	switch k.OwnerKind {
	case store.OwnerUser:
		row.OwnerUserID = &owner
	case store.OwnerClient:
		row.OwnerClientID = &owner
	default:
		_, err := ownerColumn(k.OwnerKind)
		return apiKeyRow{}, err
	}
	return row, nil
}

func (r *apiKeyRow) toAPIKey() (*store.APIKey, error) {
	k := &store.APIKey{
		ID:         r.ID,
		Name:       r.Name,
		Hash:       cloneBytes(r.Hash),
		Prefix:     r.Prefix,
		Last4:      r.Last4,
		ExpiresAt:  fromDBNullTime(r.ExpiresAt),
		CreatedAt:  fromDBTime(r.CreatedAt),
		LastUsedAt: fromDBNullTime(r.LastUsedAt),
		RevokedAt:  fromDBNullTime(r.RevokedAt),
	}
	switch {
	case r.OwnerUserID != nil:
		k.OwnerKind, k.OwnerID = store.OwnerUser, *r.OwnerUserID
	case r.OwnerClientID != nil:
		k.OwnerKind, k.OwnerID = store.OwnerClient, *r.OwnerClientID
	}
	scopes, err := decodeList("scopes", r.Scopes)
	if err != nil {
		return nil, err
	}
	k.Scopes = scopes
	return k, nil
}

// CreateAPIKey stores k. ErrConflict if its ID or Hash is taken;
// ErrNotFound if its owner does not exist (the foreign key refuses it).
// An unknown OwnerKind is an error matching no sentinel.
func (s *Store) CreateAPIKey(ctx context.Context, k *store.APIKey) error {
	if k.OwnerKind == store.OwnerSubject {
		return s.createSubjectKey(ctx, k)
	}
	if len(k.Roles) > 0 || len(k.Claims) > 0 || k.ClientID != "" {
		return errors.New("sqlstore: create api key: only a subject's key has a client, roles or claims")
	}
	row, err := apiKeyToRow(k)
	if err != nil {
		return fmt.Errorf("sqlstore: create api key: %w", err)
	}
	return s.writeChange(ctx, "create api key", store.ChangeAPIKey, k.ID, func(tx *gorm.DB) error {
		if err := keyTaken(tx, &subjectKeyRow{}, k); err != nil {
			return err
		}
		err := tx.Create(&row).Error
		if isForeignKeyViolation(err) {
			return fmt.Errorf("%w: API key owner does not exist: %w", store.ErrNotFound, err)
		}
		return err
	})
}

// GetAPIKey returns the key with that ID, whatever its state, or
// ErrNotFound.
func (s *Store) GetAPIKey(ctx context.Context, id string) (*store.APIKey, error) {
	return s.getAPIKey(ctx, "get api key", "id = ?", id)
}

// GetAPIKeyByHash returns the key whose hash is exactly hash, whatever its
// state, or ErrNotFound, through the unique index api_keys_hash_key.
func (s *Store) GetAPIKeyByHash(ctx context.Context, hash []byte) (*store.APIKey, error) {
	return s.getAPIKey(ctx, "get api key by hash", "hash = ?", nonNilBytes(hash))
}

func (s *Store) getAPIKey(ctx context.Context, op, where string, arg any) (*store.APIKey, error) {
	var row apiKeyRow
	if err := s.read(ctx).Where(where, arg).Take(&row).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return s.getSubjectKey(ctx, op, where, arg)
	} else if err != nil {
		return nil, wrapErr(op, err)
	}
	k, err := row.toAPIKey()
	return k, wrapErr(op, err)
}

// ListAPIKeys returns up to limit keys ordered by ID (byte order) after
// the cursor: every key when kind is empty, every key of kind's owners
// when ownerID is empty, else that owner's keys. A limit of zero or less
// returns none.
func (s *Store) ListAPIKeys(ctx context.Context, kind store.OwnerKind, ownerID, after string, limit int) ([]store.APIKey, error) {
	if limit <= 0 {
		return []store.APIKey{}, nil
	}
	if kind == store.OwnerSubject {
		q := s.read(ctx)
		if ownerID != "" {
			q = q.Where("subject = ?", ownerID)
		}
		return listSubjectKeys(q, after, limit)
	}
	q := s.read(ctx).Where("id > ?", after)
	if kind != "" {
		col, err := ownerColumn(kind)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list api keys: %w", err)
		}
		if ownerID == "" {
			q = q.Where(col + " IS NOT NULL")
		} else {
			q = q.Where(col+" = ?", ownerID)
		}
	}
	var rows []apiKeyRow
	if err := q.Order("id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, wrapErr("list api keys", err)
	}
	out := make([]store.APIKey, 0, len(rows))
	for i := range rows {
		k, err := rows[i].toAPIKey()
		if err != nil {
			return nil, wrapErr("list api keys", err)
		}
		out = append(out, *k)
	}
	if kind == "" {
		subjects, err := listSubjectKeys(s.read(ctx), after, limit)
		if err != nil {
			return nil, err
		}
		out = mergeKeys(out, subjects, limit)
	}
	return out, nil
}

// RevokeAPIKey sets RevokedAt to at unless the key was revoked already,
// or returns ErrNotFound. A zero at is an error: it would reactivate the
// key.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		return errors.New("sqlstore: revoke api key: zero revocation time")
	}
	fields := map[string]any{"revoked_at": gorm.Expr("COALESCE(revoked_at, ?)", dbTime(at))}
	return s.writeChange(ctx, "revoke api key", store.ChangeAPIKey, id, func(tx *gorm.DB) error {
		if err := updateByID(tx, &apiKeyRow{}, id, fields); !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return updateByID(tx, &subjectKeyRow{}, id, fields)
	})
}

// TouchAPIKeys raises last_used_at to the given time for each known key
// in used, in one transaction. Keys are updated in ID order so that
// concurrent batches lock rows in the same order and cannot deadlock on
// PostgreSQL. Zero times are skipped.
func (s *Store) TouchAPIKeys(ctx context.Context, used map[string]time.Time) error {
	ids := make([]string, 0, len(used))
	for id, at := range used {
		if !at.IsZero() {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	return s.write(ctx, "touch api keys", func(tx *gorm.DB) error {
		for _, model := range []any{&apiKeyRow{}, &subjectKeyRow{}} {
			for _, id := range ids {
				at := dbTime(used[id])
				err := tx.Model(model).
					Where("id = ? AND (last_used_at IS NULL OR last_used_at < ?)", id, at).
					Update("last_used_at", at).Error
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// DeleteAPIKeysOfOwner deletes every key of that owner; the foreign keys
// already do so when the owner itself is deleted. An unknown kind or an
// empty ownerID is an error, lest it match more than one owner.
func (s *Store) DeleteAPIKeysOfOwner(ctx context.Context, kind store.OwnerKind, ownerID string) error {
	col, err := ownerColumn(kind)
	if err == nil && ownerID == "" {
		err = errors.New("empty API key owner ID")
	}
	if err != nil {
		return fmt.Errorf("sqlstore: delete api keys of owner: %w", err)
	}
	return s.writeChange(ctx, "delete api keys of owner", store.ChangeAPIKey, "", func(tx *gorm.DB) error {
		return tx.Where(col+" = ?", ownerID).Delete(&apiKeyRow{}).Error
	})
}

// isForeignKeyViolation reports an insert whose parent row is missing.
func isForeignKeyViolation(err error) bool {
	if err == nil {
		return false
	}
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pgErr.Code == pgForeignKeyViolation
	}
	if liteErr, ok := errors.AsType[*gosqlite.Error](err); ok {
		return liteErr.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}
