package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tollgate/tollgate/store"
)

// Hash fields of a stored token; the Lua scripts use the same names.
const (
	fieldClient  = "client"
	fieldUser    = "user"
	fieldScopes  = "scopes"
	fieldIssued  = "iat"
	fieldFamily  = "fiat"
	fieldJKT     = "jkt"
	fieldExpires = "exp"
	fieldRotated = "rot"
	timeEncoding = time.RFC3339Nano
)

// CreateRefreshToken stores t until t.ExpiresAt; a token already expired is
// accepted but not kept. ErrConflict if its ID exists in its family;
// ErrNotFound if the family is revoked. Token IDs are hashes of random
// tokens, so uniqueness is checked within the family only.
func (s *Store) CreateRefreshToken(ctx context.Context, t *store.RefreshToken) error {
	if err := checkToken(t); err != nil {
		return err
	}
	keys := []string{s.tokenKey(t.FamilyID, t.ID), s.familyKey(t.FamilyID), s.revokedKey(t.FamilyID)}
	args, err := tokenArgs(t)
	if err != nil {
		return err
	}
	code, err := createScript.Run(ctx, s.client, keys, args...).Int64()
	if err != nil {
		return s.wrap("create refresh token", err)
	}
	return result("create refresh token", code)
}

// GetRefreshToken returns the token, rotated or not. ErrNotFound if it is
// unknown, expired (Redis dropped it) or its family was revoked (revocation
// deleted it).
func (s *Store) GetRefreshToken(ctx context.Context, familyID, id string) (*store.RefreshToken, error) {
	fields, err := s.client.HGetAll(ctx, s.tokenKey(familyID, id)).Result()
	if err != nil {
		return nil, s.wrap("get refresh token", err)
	}
	if len(fields) == 0 {
		return nil, fmt.Errorf("redisstore: get refresh token: %w", store.ErrNotFound)
	}
	t, err := decodeToken(familyID, id, fields)
	if err != nil {
		return nil, fmt.Errorf("redisstore: get refresh token: corrupt record: %w", err)
	}
	return t, nil
}

// RotateRefreshToken marks id rotated at now and stores next, in one
// script: of concurrent rotations exactly one wins, the others get
// ErrTokenReused. ErrNotFound if id is unknown, expired (by the Redis clock
// or by now) or its family revoked; ErrConflict if next's ID exists.
func (s *Store) RotateRefreshToken(ctx context.Context, familyID, id string, next *store.RefreshToken, now time.Time) error {
	if err := checkToken(next); err != nil {
		return err
	}
	if next.FamilyID != familyID {
		return fmt.Errorf("redisstore: rotate refresh token: successor belongs to another family")
	}
	keys := []string{
		s.tokenKey(familyID, id), s.familyKey(familyID),
		s.revokedKey(familyID), s.tokenKey(familyID, next.ID),
	}
	nextArgs, err := tokenArgs(next)
	if err != nil {
		return err
	}
	args := append([]any{id, now.UnixMilli(), formatTime(now)}, nextArgs...)
	code, err := rotateScript.Run(ctx, s.client, keys, args...).Int64()
	if err != nil {
		return s.wrap("rotate refresh token", err)
	}
	return result("rotate refresh token", code)
}

// RevokeRefreshFamily deletes every token of the family and refuses new
// ones until until (an earlier, longer revocation is kept). Unknown
// families are not an error.
func (s *Store) RevokeRefreshFamily(ctx context.Context, familyID string, until time.Time) error {
	keys := []string{s.familyKey(familyID), s.revokedKey(familyID)}
	n, err := revokeScript.Run(ctx, s.client, keys, until.UnixMilli(), s.tokenKeyPrefix(familyID)).Int64()
	if err != nil {
		return s.wrap("revoke refresh family", err)
	}
	s.log.DebugContext(ctx, "refresh family revoked", "family_id", familyID, "tokens", n)
	return nil
}

func checkToken(t *store.RefreshToken) error {
	switch {
	case t == nil:
		return errors.New("redisstore: nil refresh token")
	case t.ID == "":
		return errors.New("redisstore: refresh token without ID")
	case t.ExpiresAt.IsZero():
		// A token without expiry would be kept forever.
		return errors.New("redisstore: refresh token without expiry")
	}
	return nil
}

// result maps a script's code to the store's errors.
func result(op string, code int64) error {
	switch code {
	case resultOK:
		return nil
	case resultNotFound:
		return fmt.Errorf("redisstore: %s: %w", op, store.ErrNotFound)
	case resultRevoked:
		return fmt.Errorf("redisstore: %s: family revoked: %w", op, store.ErrNotFound)
	case resultConflict:
		return fmt.Errorf("redisstore: %s: %w", op, store.ErrConflict)
	case resultReused:
		return fmt.Errorf("redisstore: %s: %w", op, store.ErrTokenReused)
	}
	return fmt.Errorf("redisstore: %s: unexpected script result %d", op, code)
}

// tokenArgs lays t out as the scripts' put expects it.
func tokenArgs(t *store.RefreshToken) ([]any, error) {
	scopes, err := json.Marshal(t.Scopes)
	if err != nil {
		return nil, fmt.Errorf("redisstore: encode scopes: %w", err)
	}
	rotated := ""
	if !t.RotatedAt.IsZero() {
		rotated = formatTime(t.RotatedAt)
	}
	return []any{
		t.ID, t.ExpiresAt.UnixMilli(),
		t.ClientID, t.UserID, string(scopes),
		formatTime(t.IssuedAt), formatTime(t.FamilyIssuedAt), formatTime(t.ExpiresAt),
		rotated, t.KeyThumbprint,
	}, nil
}

func decodeToken(familyID, id string, f map[string]string) (*store.RefreshToken, error) {
	t := &store.RefreshToken{ID: id, FamilyID: familyID, ClientID: f[fieldClient], UserID: f[fieldUser], KeyThumbprint: f[fieldJKT]}
	if err := json.Unmarshal([]byte(f[fieldScopes]), &t.Scopes); err != nil {
		return nil, fmt.Errorf("scopes: %w", err)
	}
	var err error
	for _, d := range []struct {
		field string
		dst   *time.Time
	}{
		{fieldIssued, &t.IssuedAt},
		{fieldFamily, &t.FamilyIssuedAt},
		{fieldExpires, &t.ExpiresAt},
		{fieldRotated, &t.RotatedAt},
	} {
		if *d.dst, err = parseTime(f[d.field]); err != nil {
			return nil, fmt.Errorf("%s: %w", d.field, err)
		}
	}
	return t, nil
}

// formatTime keeps full precision and the zero time; the store returns
// times in UTC.
func formatTime(t time.Time) string {
	return t.UTC().Format(timeEncoding)
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(timeEncoding, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse %q: %w", s, err)
	}
	return t.UTC(), nil
}
