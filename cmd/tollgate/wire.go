package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/tollgate/tollgate/config"
	"github.com/tollgate/tollgate/server"
	"github.com/tollgate/tollgate/server/admin"
	"github.com/tollgate/tollgate/server/console"
	"github.com/tollgate/tollgate/server/encryption"
	"github.com/tollgate/tollgate/server/grant"
	"github.com/tollgate/tollgate/server/introspection"
	"github.com/tollgate/tollgate/server/keys"
	"github.com/tollgate/tollgate/server/metrics"
	"github.com/tollgate/tollgate/server/registry"
	"github.com/tollgate/tollgate/server/revocation"
	"github.com/tollgate/tollgate/server/secret"
	"github.com/tollgate/tollgate/server/throttle"
	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/store/clientcache"
	"github.com/tollgate/tollgate/store/redisstore"
	"github.com/tollgate/tollgate/store/sqlstore"
)

// stores are the opened persistence layers.
type stores struct {
	sql   *sqlstore.Store
	redis *redisstore.Store // nil unless TOLLGATE_REDIS_URL is set
	// refresh and revocations live in Redis when it is configured, else
	// in SQL.
	refresh     store.RefreshTokenStore
	revocations store.RevocationStore
	// clients is the client store every component uses: a cache (cached)
	// that every node invalidates on change, through Redis when it is
	// configured, else through the database's change log.
	clients store.ClientStore
	cached  *clientcache.Store
}

// openSQL opens the database, migrating it on the embedded default or when
// asked.
func openSQL(ctx context.Context, cfg config.Config, log *slog.Logger, migrate bool) (*sqlstore.Store, error) {
	sq, err := sqlstore.Open(ctx, cfg.Database.URL, sqlstore.Options{Logger: log})
	if err != nil {
		if !cfg.Embedded() {
			if clear := databaseUnreachable(cfg.Database.URL, err); clear != nil {
				return nil, clear
			}
		}
		return nil, fmt.Errorf("opening the database (TOLLGATE_DATABASE_URL): %w", err)
	}
	if migrate || cfg.Embedded() {
		if err := sq.Migrate(ctx); err != nil {
			sq.Close()
			return nil, fmt.Errorf("migrating the database: %w", err)
		}
		return sq, nil
	}
	pending, err := sq.Pending(ctx)
	if err == nil && len(pending) > 0 {
		err = fmt.Errorf("the database lacks %d migration(s) (%s); apply them with: tollgate migrate", len(pending), strings.Join(pending, ", "))
	}
	if err != nil {
		sq.Close()
		return nil, err
	}
	return sq, nil
}

// openStores opens the database and, when configured, Redis.
func openStores(ctx context.Context, cfg config.Config, log *slog.Logger) (*stores, error) {
	sq, err := openSQL(ctx, cfg, log, false)
	if err != nil {
		return nil, err
	}
	s := &stores{sql: sq, refresh: sq, revocations: sq, clients: sq}
	// On SQLite (the embedded default) without Redis, the database's
	// change log invalidates the cache; PostgreSQL without Redis keeps
	// reading the database, so that an outage is seen at once.
	if cfg.Redis.URL == "" && sq.Dialect() == sqlstore.DialectSQLite {
		s.cached = clientcache.New(sq, clientcache.Feed{Changes: sq}, clientcache.Options{Logger: log})
		s.clients = s.cached
	}
	if cfg.Redis.URL != "" {
		rs, err := redisstore.Open(ctx, cfg.Redis.URL, redisstore.Options{Prefix: cfg.Redis.Prefix, Mode: cfg.Redis.Mode, Logger: log})
		if err != nil {
			sq.Close()
			if clear := redisUnreachable(cfg.Redis.URL, err); clear != nil {
				return nil, clear
			}
			return nil, fmt.Errorf("connecting to Redis (TOLLGATE_REDIS_URL): %w", err)
		}
		s.redis, s.refresh, s.revocations = rs, rs, rs
		s.cached = clientcache.New(sq, rs, clientcache.Options{Logger: log})
		s.clients = s.cached
	}
	return s, nil
}

// Close closes every store.
func (s *stores) Close() error {
	var errs []error
	if s.redis != nil {
		errs = append(errs, s.redis.Close())
	}
	return errors.Join(append(errs, s.sql.Close())...)
}

// service is a wired Tollgate: stores, keys, engine and HTTP handler.
type service struct {
	cfg      config.Config
	stores   *stores
	keys     *keys.Manager
	ring     *encryption.Ring
	hasher   *secret.Hasher
	registry *registry.Registry
	engine   *grant.Engine
	revoked  *revocation.Set
	metrics  *metrics.Metrics
	handler  http.Handler
	log      *slog.Logger
	// console is the admin console's wiring (nil: off); its charts sample
	// in background.
	console *console.Deps
	// draining is closed by startDraining, when the HTTP server begins
	// its shutdown.
	draining  chan struct{}
	drainOnce sync.Once
}

// startDraining tells long-lived requests (revocation streams) to end, so
// that the HTTP server's drain does not wait for them.
func (s *service) startDraining() {
	s.drainOnce.Do(func() { close(s.draining) })
}

// newService wires a service from the configuration.
func newService(ctx context.Context, cfg config.Config, log *slog.Logger, tp trace.TracerProvider) (*service, error) {
	master, err := masterKey(cfg, true)
	if err != nil {
		return nil, err
	}
	warnReadable(ctx, cfg, log)
	st, err := openStores(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	// Before this process issues a token: its default lifetime joins the
	// marks that size subject revocations and key retention.
	if _, err := st.sql.RaiseLifetimes(ctx, store.LifetimeMarks{Default: cfg.Tokens.AccessTTL}); err != nil {
		st.Close()
		return nil, fmt.Errorf("recording the access-token lifetime: %w", err)
	}
	km, err := keys.New(st.sql, keys.Options{
		SealKey:    keys.Derive(master, keys.PurposeSigningKeySeal),
		Algorithm:  cfg.Tokens.SigningAlgorithm,
		PrePublish: cfg.Tokens.KeyPrePublish,
		Retain:     cfg.Tokens.AccessTTL + cfg.Tokens.ClockSkew,
		Lifetimes:  st.sql,
		ClockSkew:  cfg.Tokens.ClockSkew,
		Logger:     log,
	})
	if err == nil {
		err = checkMasterKey(ctx, km)
	}
	if err != nil {
		st.Close()
		return nil, err
	}
	ring, err := newRing(ctx, cfg, master, st, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	hasher := secret.NewHasher(keys.Derive(master, keys.PurposeClientSecretPepper))
	rates := &throttle.Rates{Limiter: throttle.NewLocalLimiter(), Client: cfg.Limits.ClientRate, IP: cfg.Limits.IPRate, Login: cfg.Limits.LoginRate, Logger: log}
	if st.redis != nil {
		rates.Limiter = throttle.NewRedisLimiter(st.redis.Client(), cfg.Redis.Prefix+"rl:")
	}
	set := revocation.New(st.revocations, revocation.Options{Logger: log})
	// Hot API keys are cached (see grant.KeyRevocations): with Redis,
	// revocations reach every node within moments; on SQLite the set polls
	// the revocations every 500 ms, and the key cache is also dropped on
	// every change in the database's change log (polled every 250 ms, at
	// once for this process's own writes) and bypassed while that watch is
	// down, so a key revoked, or an owner disabled, by the CLI on the same
	// file stops exchanging within a second. PostgreSQL without Redis reads
	// the database on every exchange.
	var keyRevs grant.KeyRevocations
	var keyChanges grant.KeyChanges
	switch {
	case st.redis != nil:
		keyRevs = set
	case st.cached != nil: // SQLite, see openStores
		keyRevs, keyChanges = set, st.sql
	}
	engine := grant.New(grant.Options{
		Clients:        st.clients,
		Users:          st.sql,
		Refresh:        st.refresh,
		APIKeys:        st.sql,
		KeyRevocations: keyRevs,
		KeyChanges:     keyChanges,
		Hasher:         hasher,
		Keys:           km,
		Encrypter:      ring,
		Issuer:         cfg.Issuer,
		Audience:       []string{cfg.Tokens.Audience},
		AccessTTL:      cfg.Tokens.AccessTTL,
		RefreshTTL:     cfg.Tokens.RefreshTTL,
		ReuseGrace:     cfg.Tokens.RefreshReuseGrace,
		Admit:          rates.AdmitClient,
		Assertions:     newAssertions(cfg, st),
		Logger:         log,

		LoginQueueTimeout: cfg.Limits.LoginQueueTimeout,
	})
	in := introspection.New(introspection.Options{
		Keys: km, Revocations: set, Refresh: st.refresh, Subjects: subjectRevocations{clients: st.clients, users: st.sql}, Clients: st.clients,
		Issuer: cfg.Issuer, Leeway: cfg.Tokens.ClockSkew, Decrypter: ring,
	})
	reg := newRegistry(cfg, master, st, set, ring, log)
	checks := []server.Check{{Name: "database", Func: st.sql.Ping}}
	if st.redis != nil {
		checks = append(checks, server.Check{Name: "redis", Func: st.redis.Ping})
	}
	checks = append(checks, server.Check{Name: "revocations", Func: set.Ready})
	met := metrics.New(set.Size, set.Synced, set.SyncAge)
	met.RegisterBuildInfo(buildInfo())
	con := consoleDeps(cfg, st, reg, km, engine, met, log)
	draining := make(chan struct{})
	h := server.New(server.Deps{
		Issuer:       cfg.Issuer,
		PublicScopes: cfg.Tokens.PublicScopeList(),
		DPoPNonceKey: dpopNonceKey(cfg, master),
		Tokens:       engine,
		Auth:         engine,
		Keys:         km,
		Clients:      st.clients,
		Refresh:      st.refresh,
		Introspector: in,
		Decrypter:    ring,
		AudienceKeys: ring,
		Admin: &admin.Deps{
			Registry: reg, Clients: st.clients, Users: st.sql, APIKeys: st.sql, Audit: st.sql,
			Keys: km, Tokens: in, Logger: log,
		},
		Console:        con,
		Revocations:    set,
		ClockSkew:      cfg.Tokens.ClockSkew,
		TrustedProxies: cfg.Server.TrustedProxyList(),
		Rates:          rates,
		RevocationRate: revocationRate(cfg.Limits.RevocationRate),
		Streams:        server.StreamLimits{PerClient: cfg.Limits.StreamsPerClient, PerNode: cfg.Limits.Streams, WriteTimeout: cfg.Server.WriteTimeout},
		Metrics:        met,
		Tracer:         tp,
		MetricsRoute:   cfg.Server.MetricsAddr == "",
		RefreshTTL:     cfg.Tokens.RefreshTTL,
		Checks:         checks,
		Draining:       draining,
		Logger:         log,
	})
	return &service{
		console:  con,
		draining: draining,
		cfg:      cfg,
		stores:   st,
		keys:     km,
		ring:     ring,
		hasher:   hasher,
		registry: reg,
		engine:   engine,
		revoked:  set,
		metrics:  met,
		handler:  h,
		log:      log,
	}, nil
}

// background starts the service's periodic work; it stops when ctx is
// done, and the returned func waits for it.
func (s *service) background(ctx context.Context) (wait func()) {
	var wg sync.WaitGroup
	wg.Go(func() { s.keys.Run(ctx, time.Minute) })
	// Often: an audience turned encrypted (or a rotated key) on another
	// node reaches this one's token endpoint within a poll.
	wg.Go(func() { s.ring.Run(ctx, 10*time.Second) })
	wg.Go(func() { s.revoked.Run(ctx) })
	wg.Go(func() { s.engine.RunUsage(ctx, 5*time.Second) })
	if s.stores.cached != nil {
		wg.Go(func() { s.stores.cached.Run(ctx) })
	}
	wg.Go(func() { s.engine.RunKeyChanges(ctx) })
	if s.console != nil {
		wg.Go(func() { s.console.Stats.Run(ctx) })
	}
	if s.stores.redis == nil {
		wg.Go(func() { s.purgeExpired(ctx, 10*time.Minute) })
	}
	return wg.Wait
}

// purgeExpired deletes expired refresh state from SQL; Redis expires its
// own keys.
func (s *service) purgeExpired(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			n, err := s.stores.sql.DeleteExpired(ctx, now)
			if err != nil {
				s.log.LogAttrs(ctx, slog.LevelWarn, "purging expired refresh tokens", slog.String("error", err.Error()))
				continue
			}
			s.log.LogAttrs(ctx, slog.LevelDebug, "purged expired refresh tokens", slog.Int64("rows", n))
		}
	}
}

// Close releases the stores.
func (s *service) Close() error { return s.stores.Close() }

// subjectRevocations reads when a client's or user's tokens were last
// revoked as a whole, for refresh tokens (whose families outlive the
// revocation set's entries).
type subjectRevocations struct {
	clients store.ClientStore
	users   store.UserStore
}

func (sr subjectRevocations) TokensRevokedAt(ctx context.Context, clientID, userID string) (time.Time, error) {
	var at time.Time
	c, err := sr.clients.GetClient(ctx, clientID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return farFuture, nil // a deleted client's tokens are all dead
	case err != nil:
		return at, err
	}
	at = c.TokensRevokedAt
	if userID == "" {
		return at, nil
	}
	u, err := sr.users.GetUser(ctx, userID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return farFuture, nil
	case err != nil:
		return at, err
	case u.Disabled:
		return farFuture, nil
	}
	if u.TokensRevokedAt.After(at) {
		at = u.TokensRevokedAt
	}
	return at, nil
}

// farFuture marks every token of a subject as revoked.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// revocationRate maps the configured budget (0: off) to server.Deps'
// (0: the default, negative: off).
func revocationRate(perSecond int) int {
	if perSecond == 0 {
		return -1
	}
	return perSecond
}

// dpopNonceKey is the key of the token endpoint's DPoP nonces, the same on
// every node; nil when nonces are off.
func dpopNonceKey(cfg config.Config, master []byte) []byte {
	if cfg.Tokens.DPoPNonce != "required" {
		return nil
	}
	return keys.Derive(master, keys.PurposeDPoPNonce)
}
