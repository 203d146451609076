package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/tollgate/tollgate/server/registry"
	"github.com/tollgate/tollgate/server/secret"
	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/store/redisstore"
)

// seedBatch is the number of rows one INSERT carries: 1,000 rows of at
// most 7 parameters stay far below SQLite's and PostgreSQL's limits.
const seedBatch = 1000

// seeder writes rows straight into a stopped server's database, with
// batched INSERTs, the way the server would have stored them: real
// generated secrets, hashed with the server's own keyed hash under the
// pepper the server derives from the same master key, so that every
// request the benchmark makes verifies for real.
type seeder struct {
	db     *gorm.DB
	hasher *secret.Hasher
	logf   func(format string, args ...any)
	tag    string // makes seeded names unique within the database
}

// openSeeder opens the database of a setup: the SQLite file of the
// embedded mode, or the PostgreSQL database.
func openSeeder(s *setup, hasher *secret.Hasher, logf func(string, ...any)) (*seeder, error) {
	cfg := &gorm.Config{Logger: logger.Discard, SkipDefaultTransaction: true}
	var dial gorm.Dialector
	if s.db != nil {
		dial = postgres.Open(s.db.url)
	} else {
		dial = sqlite.Open(sqlitePath(s) + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)")
	}
	db, err := gorm.Open(dial, cfg)
	if err != nil {
		return nil, fmt.Errorf("opening the database to seed it: %w", err)
	}
	return &seeder{db: db, hasher: hasher, logf: logf, tag: randomName("")}, nil
}

func (sd *seeder) close() {
	if sqlDB, err := sd.db.DB(); err == nil {
		_ = sqlDB.Close()
	}
}

// insert runs INSERT INTO table (cols) VALUES row, row, … for rows from to
// to-1 in batches; row writes one row's tuple and its arguments.
func (sd *seeder) insert(ctx context.Context, what, table, cols string, from, to int, row func(i int, args []any) (string, []any)) error {
	start, last := time.Now(), time.Now()
	var q strings.Builder
	for lo := from; lo < to; lo += seedBatch {
		hi := min(lo+seedBatch, to)
		q.Reset()
		fmt.Fprintf(&q, "INSERT INTO %s (%s) VALUES ", table, cols)
		args := make([]any, 0, (hi-lo)*7)
		for i := lo; i < hi; i++ {
			var tuple string
			tuple, args = row(i, args)
			if i > lo {
				q.WriteByte(',')
			}
			q.WriteString(tuple)
		}
		if err := sd.db.WithContext(ctx).Exec(q.String(), args...).Error; err != nil {
			return fmt.Errorf("seeding %s: %w", what, err)
		}
		if time.Since(last) > 3*time.Second || hi == to {
			el := time.Since(start)
			sd.logf("  seeded %s %s of %s (%s/s)", what, fmtInt(hi), fmtInt(to), fmtInt(int(float64(hi-from)/el.Seconds())))
			last = time.Now()
		}
	}
	return nil
}

// clients seeds clients from to to-1 allowed client_credentials with
// scopes; it returns the credentials of the rows in keep.
func (sd *seeder) clients(ctx context.Context, from, to int, scopes string, keep map[int]bool) (map[int]credentials, []string, error) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	kept := map[int]credentials{}
	ids := make([]string, 0, to-from)
	list := encodeJSONList(scopes)
	tuple := "(?, ?, ?, '[\"client_credentials\"]', '" + list + "', '[]', '[]', '[]', 0, 0, 0, 0, ?, ?)"
	err := sd.insert(ctx, "clients", "clients",
		"id, name, secret_hash, grant_types, scopes, default_scopes, audience, roles, access_token_ttl_ns, refresh_token_ttl_ns, max_access_token_ttl_ns, rate_limit, created_at, updated_at",
		from, to, func(i int, args []any) (string, []any) {
			id, sec := secret.NewID(secret.ClientIDPrefix), secret.Generate(secret.ClientSecretPrefix)
			if keep[i] {
				kept[i] = credentials{ID: id, Secret: sec}
			}
			ids = append(ids, id)
			return tuple, append(args, id, fmt.Sprintf("scale-%s-%d", sd.tag, i), sd.hasher.Hash(sec), now, now)
		})
	return kept, ids, err
}

// apiKeys seeds API keys from to to-1, key i owned by client owner(i) with
// scopes; it returns the keys of the rows in keep.
func (sd *seeder) apiKeys(ctx context.Context, from, to int, scopes string, owner func(int) string, keep map[int]bool) (map[int]string, error) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	kept := map[int]string{}
	tuple := "(?, ?, 'scale', '" + encodeJSONList(scopes) + "', ?, ?, ?, ?)"
	err := sd.insert(ctx, "API keys", "api_keys", "id, owner_client_id, name, scopes, hash, prefix, last4, created_at",
		from, to, func(i int, args []any) (string, []any) {
			key := secret.Generate(secret.APIKeyPrefix)
			if keep[i] {
				kept[i] = key
			}
			// The same display fields as registry.CreateAPIKey.
			return tuple, append(args, secret.NewID(registry.APIKeyIDPrefix), owner(i), sd.hasher.Hash(key),
				key[:len(secret.APIKeyPrefix)+4], key[len(key)-4:], now)
		})
	return kept, err
}

// revocations seeds live token revocations from to to-1 into the SQL
// revocation log (the embedded mode's), valid for an hour.
func (sd *seeder) revocations(ctx context.Context, from, to int) error {
	now := time.Now().UTC().Truncate(time.Microsecond)
	until := now.Add(time.Hour)
	return sd.insert(ctx, "revocations", "revocations", `kind, "key", revoked_at, expires_at`, from, to,
		func(i int, args []any) (string, []any) {
			return "(?, ?, ?, ?)", append(args, string(store.RevokedToken), secret.NewID("jti_"), now, until)
		})
}

// seedRedisRevocations records live token revocations from to to-1 in
// Redis through the store the server uses, 32 at a time: the log's layout
// stays the store's business.
func seedRedisRevocations(ctx context.Context, redisURL, prefix string, from, to int, logf func(string, ...any)) error {
	rs, err := redisstore.Open(ctx, redisURL, redisstore.Options{Prefix: prefix})
	if err != nil {
		return err
	}
	defer rs.Close()
	now := time.Now()
	start := time.Now()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		firstEr error
	)
	next := make(chan int)
	for range 32 {
		wg.Go(func() {
			for range next {
				r := &store.Revocation{Kind: store.RevokedToken, Key: secret.NewID("jti_"), RevokedAt: now, ExpiresAt: now.Add(time.Hour)}
				if err := rs.Revoke(ctx, r); err != nil {
					mu.Lock()
					firstEr = cmpOr(firstEr, err)
					mu.Unlock()
				}
			}
		})
	}
	last := time.Now()
	for i := from; i < to && ctx.Err() == nil; i++ {
		next <- i
		if time.Since(last) > 3*time.Second {
			logf("  seeded revocations %s of %s in Redis (%s/s)", fmtInt(i), fmtInt(to), fmtInt(int(float64(i-from)/time.Since(start).Seconds())))
			last = time.Now()
		}
	}
	close(next)
	wg.Wait()
	logf("  seeded revocations %s of %s in Redis", fmtInt(to), fmtInt(to))
	return cmpOr(firstEr, ctx.Err())
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// encodeJSONList is the stored form of a space-separated list (see
// sqlstore's encodeList): a JSON array of plain tokens.
func encodeJSONList(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return "[]"
	}
	return `["` + strings.Join(f, `","`) + `"]`
}
