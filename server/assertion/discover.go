package assertion

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"
)

// discovery caches the jwks_uri of OIDC issuers, found by OpenID Connect
// Discovery 1.0 §4.
type discovery struct {
	uris map[string]*discovered // under Fetcher.mu
}

type discovered struct {
	mu    sync.Mutex
	uri   string
	found time.Time
	tried time.Time
	err   error
}

// Discover returns the jwks_uri that issuer publishes in its
// /.well-known/openid-configuration, cached like key sets. The document's
// issuer must be issuer itself (§4.3), and its jwks_uri pass CheckURI.
func (f *Fetcher) Discover(ctx context.Context, issuer string) (string, error) {
	f.mu.Lock()
	if f.disc.uris == nil {
		f.disc.uris = map[string]*discovered{}
	}
	d := f.disc.uris[issuer]
	if d == nil {
		d = &discovered{}
		f.disc.uris[issuer] = d
	}
	f.mu.Unlock()

	d.mu.Lock()
	defer d.mu.Unlock()
	now := f.opts.Now()
	switch {
	case d.uri != "" && now.Sub(d.found) < f.opts.CacheTTL:
		return d.uri, nil
	case d.err != nil && now.Sub(d.tried) < f.opts.MinRefresh:
		if d.uri != "" {
			return d.uri, nil
		}
		return "", d.err
	}
	uri, err := f.discover(ctx, issuer)
	// As for key sets, MinRefresh runs from the end of the fetch.
	d.tried = f.opts.Now()
	d.err = err
	if err == nil {
		d.uri, d.found = uri, now
	}
	if d.uri != "" {
		return d.uri, nil
	}
	return "", err
}

func (f *Fetcher) discover(ctx context.Context, issuer string) (string, error) {
	const what = "the issuer's OIDC discovery document"
	body, err := f.getJSON(ctx, strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration", what, "application/json")
	if err != nil {
		return "", err
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", errors.New(what + " is not a JSON object")
	}
	if doc.Issuer != issuer {
		return "", errors.New(what + " names another issuer")
	}
	if err := CheckURI(doc.JWKSURI); err != nil {
		return "", errors.New(what + " has no usable jwks_uri")
	}
	return doc.JWKSURI, nil
}
