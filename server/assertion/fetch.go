package assertion

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Fetcher defaults.
const (
	DefaultFetchTimeout = 5 * time.Second
	// DefaultCacheTTL is how long a fetched key set is used before it is
	// fetched again.
	DefaultCacheTTL = 5 * time.Minute
	// DefaultMinRefresh is the least time between two fetches of one URI,
	// whatever asks: a storm of assertions with unknown kids costs the
	// key host one request per interval.
	DefaultMinRefresh = 10 * time.Second
)

// FetchOptions configure a Fetcher.
type FetchOptions struct {
	// Timeout bounds one fetch, connection to last byte.
	Timeout    time.Duration
	CacheTTL   time.Duration
	MinRefresh time.Duration
	// Client, when set, is used for fetches (its Timeout is overridden).
	Client *http.Client
	Now    func() time.Time
}

// Fetcher fetches and caches JWK Sets from jwks_uri addresses.
type Fetcher struct {
	opts   FetchOptions
	client *http.Client
	mu     sync.Mutex
	sets   map[string]*cachedSet
	disc   discovery
}

// cachedSet is one URI's keys. Its mutex serialises fetches of that URI,
// so concurrent callers wait for one fetch instead of each making one.
type cachedSet struct {
	mu      sync.Mutex
	keys    []jose.JSONWebKey
	fetched time.Time // of keys
	// refreshed is the last fetch asked for by an unknown kid.
	refreshed time.Time
	tried     time.Time // the last fetch, successful or not
	err       error     // of the last fetch
}

// NewFetcher returns a Fetcher; zero options take the defaults.
func NewFetcher(opts FetchOptions) *Fetcher {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultFetchTimeout
	}
	if opts.CacheTTL <= 0 {
		opts.CacheTTL = DefaultCacheTTL
	}
	if opts.MinRefresh <= 0 {
		opts.MinRefresh = DefaultMinRefresh
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c := &http.Client{}
	if opts.Client != nil {
		cc := *opts.Client
		c = &cc
	}
	c.Timeout = opts.Timeout
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 3 {
			return errors.New("too many redirects")
		}
		return redirectAllowed(req.URL, via[0].URL)
	}
	return &Fetcher{opts: opts, client: c, sets: map[string]*cachedSet{}}
}

// Keys returns the key set at uri: the cached one while it is fresh, else
// a fetched one. With refresh (an assertion named a kid the cached set
// lacks), the set is fetched again at most once per MinRefresh. A failed
// fetch is not retried for MinRefresh either, and the last good set keeps
// being served; the error is returned only when there is none. Errors say
// what was wrong with the answer and quote none of it.
func (f *Fetcher) Keys(ctx context.Context, uri string, refresh bool) ([]jose.JSONWebKey, error) {
	f.mu.Lock()
	cs := f.sets[uri]
	if cs == nil {
		cs = &cachedSet{}
		f.sets[uri] = cs
	}
	f.mu.Unlock()

	cs.mu.Lock()
	defer cs.mu.Unlock()
	now := f.opts.Now()
	fresh := cs.keys != nil && now.Sub(cs.fetched) < f.opts.CacheTTL
	switch {
	case fresh && !refresh:
		return cs.keys, nil
	case fresh && now.Sub(cs.refreshed) < f.opts.MinRefresh,
		cs.err != nil && now.Sub(cs.tried) < f.opts.MinRefresh:
		if cs.keys != nil {
			return cs.keys, nil
		}
		return nil, cs.err
	}
	keys, err := f.fetch(ctx, uri)
	// The MinRefresh windows run from the end of the fetch: callers that
	// queued behind a slow one take its outcome instead of each fetching
	// again when the timeout is longer than MinRefresh.
	done := f.opts.Now()
	if refresh {
		cs.refreshed = done
	}
	cs.tried = done
	cs.err = err
	if err == nil {
		cs.keys, cs.fetched = keys, now
	}
	if cs.keys != nil {
		return cs.keys, nil
	}
	return nil, err
}

// fetch GETs uri and parses the key set.
func (f *Fetcher) fetch(ctx context.Context, uri string) ([]jose.JSONWebKey, error) {
	body, err := f.getJSON(ctx, uri, "the jwks_uri", "application/jwk-set+json")
	if err != nil {
		return nil, err
	}
	keys, err := parseSet(body, false)
	if err != nil {
		return nil, fmt.Errorf("the key set at the jwks_uri is unusable: %w", err)
	}
	return keys, nil
}

// getJSON GETs uri and returns its JSON body, refusing non-JSON,
// oversized and slow answers. what names uri in errors.
func (f *Fetcher) getJSON(ctx context.Context, uri, what, altType string) ([]byte, error) {
	// The fetch serves every caller waiting for this URI and its outcome
	// is cached, so one caller hanging up must not fail it for the others:
	// only Timeout bounds it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, fmt.Errorf("%s is not a valid URL", what)
	}
	req.Header.Set("Accept", altType+", application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("%s did not answer within %s", what, f.opts.Timeout)
		}
		return nil, fmt.Errorf("%s could not be fetched", what)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered HTTP %d", what, resp.StatusCode)
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt != "application/json" && mt != altType {
		return nil, fmt.Errorf("%s did not answer with JSON (Content-Type application/json or %s)", what, altType)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxKeySetBytes+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s did not answer within %s", what, f.opts.Timeout)
		}
		return nil, fmt.Errorf("%s answer could not be read", what)
	}
	if len(body) > MaxKeySetBytes {
		return nil, fmt.Errorf("%s answered more than %d KiB", what, MaxKeySetBytes>>10)
	}
	return body, nil
}

// redirectAllowed reports whether a fetch of from may follow a redirect
// to to. The admin vetted from, not to, and the fetch's outcome (status,
// timeout, refused connection) reaches whoever sent the assertion: so a
// redirect stays on from's host, or goes to https on a host that is not
// this machine or an internal address literal. Otherwise a key host could
// make Tollgate probe its own loopback or the network behind it.
func redirectAllowed(to, from *url.URL) error {
	if err := CheckURI(to.String()); err != nil {
		return err
	}
	if to.Host == from.Host && (to.Scheme == from.Scheme || to.Scheme == "https") {
		return nil
	}
	if to.Scheme != "https" || internalHost(to.Hostname()) {
		return errors.New("a redirect may lead only to https on a public host")
	}
	return nil
}

// internalHost reports whether h names this machine or is an IP literal
// of a loopback, private, link-local or unspecified address.
func internalHost(h string) bool {
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && (ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified())
}
