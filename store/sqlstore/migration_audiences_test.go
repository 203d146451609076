package sqlstore

import (
	"testing"
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"

	"github.com/tollgate/tollgate/store"
)

// userRowV1 is table users as a binary before migration
// 202612080002_subject_claims writes it.
type userRowV1 struct {
	ID           string    `gorm:"column:id;primaryKey"`
	Username     string    `gorm:"column:username"`
	PasswordHash string    `gorm:"column:password_hash"`
	Roles        string    `gorm:"column:roles"`
	Disabled     bool      `gorm:"column:disabled"`
	CreatedAt    time.Time `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt    time.Time `gorm:"column:updated_at;autoUpdateTime:false"`
}

func (userRowV1) TableName() string { return "users" }

// TestSubjectClaimsMigrationKeepsSubjects: clients and users stored before
// 202612080002_subject_claims read back without claims (nil, not an empty
// object), and a binary that predates it still inserts both (expand only).
func TestSubjectClaimsMigrationKeepsSubjects(t *testing.T) {
	t.Parallel()
	for name, s := range openUnmigrated(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			err := s.write(ctx, "migrate to before", func(tx *gorm.DB) error {
				return gormigrate.New(tx, &gormigrate.Options{TableName: migrationsTable, IDColumnName: "id", IDColumnSize: 255}, migrations()).
					MigrateTo("202612070004_client_federation")
			})
			mustNoErr(t, err)
			now := time.Now().UTC()
			db := s.db.WithContext(ctx)
			old := oldClient("1", now)
			mustNoErr(t, db.Create(&old).Error)
			mustNoErr(t, db.Create(&userRowV1{ID: "u1", Username: "alice", PasswordHash: "h", Roles: "[]", CreatedAt: now, UpdatedAt: now}).Error)
			mustNoErr(t, s.Migrate(ctx))

			c, err := s.GetClient(ctx, "c1")
			mustNoErr(t, err)
			u, err := s.GetUser(ctx, "u1")
			mustNoErr(t, err)
			for what, v := range map[string][]byte{
				"client Claims": c.Claims, "client PrivateClaims": c.PrivateClaims,
				"user Claims": u.Claims, "user PrivateClaims": u.PrivateClaims,
			} {
				if v != nil {
					t.Errorf("%s after the upgrade = %q, want nil", what, v)
				}
			}
			old = oldClient("2", now)
			if err := db.Create(&old).Error; err != nil {
				t.Errorf("old binary creates a client after the upgrade: %v", err)
			}
			if err := db.Create(&userRowV1{ID: "u2", Username: "bob", PasswordHash: "h", Roles: "[]", CreatedAt: now, UpdatedAt: now}).Error; err != nil {
				t.Errorf("old binary creates a user after the upgrade: %v", err)
			}
		})
	}
}

// TestAudienceKeysCascade: the schema itself deletes an audience's keys
// with it, whatever deletes the audience, and refuses a key without one.
func TestAudienceKeysCascade(t *testing.T) {
	t.Parallel()
	for name, s := range openSchemaTestStores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			for _, aud := range []string{"a", "b"} {
				mustNoErr(t, s.CreateAudience(ctx, &store.Audience{Name: aud, Encrypted: true}))
				k := &store.AudienceKey{ID: "k_" + aud, Audience: aud, Algorithm: store.KeyECDHES, PrivateKey: []byte{1}, PublicKey: []byte{2}}
				mustNoErr(t, s.CreateAudienceKey(ctx, k))
			}
			db := s.db.WithContext(ctx)
			mustNoErr(t, db.Exec("DELETE FROM audiences WHERE name = ?", "a").Error)
			var ids []string
			mustNoErr(t, db.Model(&audienceKeyRow{}).Order("id").Pluck("id", &ids).Error)
			if len(ids) != 1 || ids[0] != "k_b" {
				t.Errorf("keys after deleting audience a = %q, want [k_b]", ids)
			}
			row := audienceKeyRow{ID: "k_x", Audience: "x", Algorithm: store.KeyECDHES, PrivateKey: []byte{1}, PublicKey: []byte{2}}
			if err := db.Create(&row).Error; !isForeignKeyViolation(err) {
				t.Errorf("insert a key of no audience: err = %v, want a foreign key violation", err)
			}
		})
	}
}
