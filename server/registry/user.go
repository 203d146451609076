package registry

import (
	"context"
	"encoding/json"

	"github.com/tollgate/tollgate/server/secret"
	"github.com/tollgate/tollgate/store"
)

// Limits on user fields.
const (
	maxUsernameLen = 200
	minPasswordLen = 8
	maxPasswordLen = 1024
)

// UserSpec is what a caller may set on a new user.
type UserSpec struct {
	Username string
	Password string
	Roles    []string
	// Claims and PrivateClaims are as on ClientSpec: extra claims of the
	// user's tokens, the private ones only for encrypted audiences.
	Claims        json.RawMessage
	PrivateClaims json.RawMessage
}

// CreateUser validates spec, hashes the password with argon2id and stores
// the user.
func (r *Registry) CreateUser(ctx context.Context, spec UserSpec) (*store.User, error) {
	ctx, done := r.begin(ctx)
	defer done()
	var v ValidationError
	if spec.Username == "" || len(spec.Username) > maxUsernameLen || printable(spec.Username) != spec.Username {
		v.add("username", "must be 1 to %d printable characters", maxUsernameLen)
	}
	if len(spec.Password) < minPasswordLen || len(spec.Password) > maxPasswordLen {
		v.add("password", "must be %d to %d bytes long", minPasswordLen, maxPasswordLen)
	}
	checkValues(&v, "roles", spec.Roles)
	claims, private := checkSubjectClaims(&v, spec.Claims, spec.PrivateClaims)
	if err := v.err(); err != nil {
		return nil, err
	}
	hash, err := secret.HashPassword(spec.Password)
	if err != nil {
		return nil, err
	}
	now := r.now().UTC()
	u := &store.User{
		ID:            secret.NewID(secret.UserIDPrefix),
		Username:      spec.Username,
		PasswordHash:  hash,
		Roles:         spec.Roles,
		Claims:        claims,
		PrivateClaims: private,
		CreatedAt:     now,
		UpdatedAt:     now,
	}
	if err := r.users.CreateUser(ctx, u); err != nil {
		return nil, conflict(err, "username", "username "+spec.Username)
	}
	return u, r.record(ctx, "user.create", target(store.SubjectUser, u.ID), nil, ViewUser(u))
}
