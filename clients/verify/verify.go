// Package verify validates Tollgate access tokens in a resource server.
//
// In the default Local mode a Verifier checks each token's signature
// against the issuer's published keys (RFC 7517, discovered through RFC
// 8414 metadata), its claims (RFC 9068: typ at+jwt, iss, aud, exp, nbf,
// iat) and the issuer's revocation feed, which it keeps in memory. A token
// seen before is answered from a cache that never holds tokens (it is
// keyed by the SHA-256 of the signature), with the revocation check still
// made on every call. In Introspect mode it asks the issuer instead (RFC
// 7662).
//
// Encrypted tokens (nested JWTs: a JWE, RFC 7516, around the signed
// token, which Tollgate issues for audiences marked encrypted) are
// accepted transparently. In Local mode the Verifier decrypts them with
// its audience's private keys, which it reads from the issuer's
// audience_keys_endpoint (its client needs the tollgate:decrypt scope)
// when the first encrypted token arrives, then checks the inner token as
// any other; Principal.Encrypted tells them apart. In Introspect mode
// Tollgate decrypts them.
//
// Open dials the issuer; Close stops the background work.
package verify

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tollgate/tollgate/clients/internal/clientassert"
)

// Verifier validates access tokens. It is safe for concurrent use.
type Verifier struct {
	o     Options
	keys  *keyCache     // Local mode
	dkeys *audienceKeys // Local mode: for encrypted tokens
	feed  *feed         // Local mode
	cache *cache        // verified tokens, Local mode
	intro *introspector // Introspect mode, or the gap fallback

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// pruneEvery is how often expired revocations leave memory.
const pruneEvery = 30 * time.Second

// Open reads the issuer's metadata and, in Local mode, its key set and
// revocation set, then follows the revocation feed in the background
// until Close. It fails if any of that fails, so that a service does not
// start unable to verify tokens.
func Open(ctx context.Context, opts Options) (*Verifier, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	m, err := discover(ctx, &o)
	if err != nil {
		return nil, err
	}
	// The background work outlives ctx (which bounds only Open) and stops
	// at Close.
	life, cancel := context.WithCancel(context.WithoutCancel(ctx))
	v := &Verifier{o: o, ctx: life, cancel: cancel}
	v.intro = &introspector{o: &v.o, url: m.IntrospectionEndpoint, cache: newCache(o.CacheSize)}
	if o.ClientKey != nil {
		s, err := clientassert.New(o.ClientKey, o.ClientKeyID, o.ClientID)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("verify: ClientKey: %w", err)
		}
		v.intro.assert = s
	}
	if o.Mode == Introspect {
		return v, nil
	}
	v.cache = newCache(o.CacheSize)
	v.keys = &keyCache{url: m.JWKSURI, o: &v.o, life: life, onRemoved: v.cache.clear}
	v.dkeys = &audienceKeys{url: m.AudienceKeysEndpoint, o: &v.o, life: life, assert: v.intro.assert}
	v.feed = &feed{o: &v.o, listURL: m.RevocationFeed, streamURL: m.RevocationFeedStream, set: newRevocationSet()}
	if err := v.keys.load(ctx); err != nil {
		cancel()
		return nil, fmt.Errorf("verify: reading the issuer's key set: %w", err)
	}
	if err := v.feed.load(ctx); err != nil {
		cancel()
		return nil, fmt.Errorf("verify: reading the revocation feed: %w", err)
	}
	v.wg.Go(func() { v.feed.run(life) })
	v.wg.Go(func() { v.maintain(life) })
	return v, nil
}

// Close stops following the feed and refreshing keys, and waits for that
// to end. Verify fails with ErrClosed afterwards.
func (v *Verifier) Close() error {
	v.cancel()
	v.wg.Wait()
	return nil
}

// maintain refreshes the key sets and prunes expired revocations.
func (v *Verifier) maintain(ctx context.Context) {
	keys := time.NewTicker(v.o.KeyRefreshInterval)
	defer keys.Stop()
	prune := time.NewTicker(pruneEvery)
	defer prune.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-keys.C:
			if err := v.keys.refetch(ctx, true); err != nil && ctx.Err() == nil {
				v.o.Logger.LogAttrs(ctx, slog.LevelWarn, "refreshing the issuer's key set; keeping the previous one", slog.String("error", err.Error()))
			}
			if err := v.dkeys.refresh(ctx); err != nil && ctx.Err() == nil {
				v.o.Logger.LogAttrs(ctx, slog.LevelWarn, "refreshing the audience's decryption keys; keeping the previous ones", slog.String("error", err.Error()))
			}
		case <-prune.C:
			v.feed.set.prune(v.o.Now().Unix())
		}
	}
}

// Verify validates a bearer access token and returns its Principal. The
// error wraps one of the package's Err values; see there. A token is
// never accepted at or after exp (plus Leeway), even from the cache, and
// the revocation check is made on every call.
func (v *Verifier) Verify(ctx context.Context, tok string) (*Principal, error) {
	if v.ctx.Err() != nil {
		return nil, ErrClosed
	}
	if len(tok) == 0 || len(tok) > MaxTokenLen {
		return nil, fmt.Errorf("%w: empty or longer than %d bytes", ErrMalformed, MaxTokenLen)
	}
	k := tokenKey(tok)
	now := v.o.Now()
	if v.o.Mode == Introspect {
		if err := screen(tok); err != nil {
			return nil, v.reject(ctx, "", err) // not a Tollgate access token: no need to ask
		}
		e, err := v.intro.check(ctx, tok, k, now)
		if err != nil {
			return nil, v.reject(ctx, "", err)
		}
		return e.p, nil
	}
	e := v.cache.get(k, now.UnixNano())
	if e == nil {
		var err error
		if e, err = v.check(ctx, tok, now); err != nil {
			return nil, v.reject(ctx, "", err)
		}
		v.cache.put(k, e, now.UnixNano())
	}
	if v.feed.set.revoked(e, now.Unix()) {
		return nil, v.reject(ctx, e.jti, ErrRevoked)
	}
	if err := v.checkGap(ctx, tok, k, e, now); err != nil {
		return nil, v.reject(ctx, e.jti, err)
	}
	return e.p, nil
}

// check verifies a token not in the cache: a plain JWS, or a nested JWT
// (a JWE around one) decrypted with the audience's keys first.
func (v *Verifier) check(ctx context.Context, tok string, now time.Time) (*entry, error) {
	if isJWE(tok) {
		return v.checkEncrypted(ctx, tok, now)
	}
	return v.checkSigned(ctx, tok, now)
}

// screen refuses, in Introspect mode, what cannot be a Tollgate access
// token, before asking the issuer. A JWE is passed on as it is (Tollgate
// decrypts it) if its header is one Tollgate would write.
func screen(tok string) error {
	if isJWE(tok) {
		_, err := parseJWEHeader(tok)
		return err
	}
	_, err := parseHeader(tok)
	return err
}

// checkGap applies the fail-closed rule: once the feed has been lost for
// longer than MaxFeedGap, a token issued before the loss (give or take
// Leeway of clock skew) may have been revoked unseen, so it is refused or,
// if configured, checked by introspection.
func (v *Verifier) checkGap(ctx context.Context, tok string, k key, e *entry, now time.Time) error {
	lost := v.feed.lost.Load()
	if lost == 0 || now.UnixNano()-lost <= int64(v.o.MaxFeedGap) || e.iat*int64(time.Second) >= lost+int64(v.o.Leeway) {
		return nil
	}
	if v.o.OnFeedGap != FallBackToIntrospection {
		return ErrFeedLost
	}
	_, err := v.intro.check(ctx, tok, k, now)
	return err
}

// Ready reports an error while the revocation feed has been lost for
// longer than MaxFeedGap (Local mode): for a readiness probe.
func (v *Verifier) Ready() error {
	if v.ctx.Err() != nil {
		return ErrClosed
	}
	if v.feed == nil {
		return nil
	}
	if lost := v.feed.lost.Load(); lost != 0 && v.o.Now().UnixNano()-lost > int64(v.o.MaxFeedGap) {
		return fmt.Errorf("verify: revocation feed lost since %s", time.Unix(0, lost).UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// reject logs a refused token at Debug (with its jti when the signature
// was good; never the token) and returns err.
func (v *Verifier) reject(ctx context.Context, jti string, err error) error {
	if v.o.Logger.Enabled(ctx, slog.LevelDebug) {
		v.o.Logger.LogAttrs(ctx, slog.LevelDebug, "access token refused", slog.String("jti", jti), slog.String("reason", err.Error()))
	}
	return err
}
