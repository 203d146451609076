package verify

import (
	"crypto"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// Mode is how a Verifier decides about tokens.
type Mode int

const (
	// Local checks the signature against the issuer's published keys and
	// the claims locally, and revocations against an in-memory copy of the
	// issuer's revocation feed. The default.
	Local Mode = iota
	// Introspect asks the issuer's introspection endpoint (RFC 7662) about
	// every token not in the cache. No keys or feed are needed.
	Introspect
)

// GapPolicy is what Verify does, in Local mode, with a token issued before
// the revocation feed was lost once the loss has lasted longer than
// Options.MaxFeedGap.
type GapPolicy int

const (
	// FailClosed refuses such tokens with ErrFeedLost. The default.
	FailClosed GapPolicy = iota
	// FallBackToIntrospection asks the introspection endpoint about them.
	FallBackToIntrospection
)

// Options configure a Verifier. Issuer, Audience, ClientID and
// ClientSecret are required; zero values elsewhere mean the default.
type Options struct {
	// Issuer is the Tollgate base URL, exactly as in its tokens' "iss":
	// the metadata is read from Issuer + "/.well-known/oauth-authorization-server".
	Issuer string
	// Audience must be one of a token's "aud" values (RFC 9068 §4).
	Audience string
	// ClientID and ClientSecret identify this resource server to the
	// issuer: a Tollgate client with the tollgate:introspect scope. They
	// authenticate reads of the revocation feed and introspection calls
	// and, in Local mode, of the audience's decryption keys when the first
	// encrypted token arrives: for that the client also needs the
	// tollgate:decrypt scope and Audience among its audiences.
	ClientID     string
	ClientSecret string
	// ClientKey, instead of ClientSecret, authenticates introspection
	// calls with private_key_jwt (RFC 7523): a new assertion signed by it
	// for each call, with ClientKeyID as its kid. Introspect mode only:
	// the revocation feed of Local mode is read with GET requests, which
	// carry no assertion.
	ClientKey   crypto.Signer
	ClientKeyID string

	Mode Mode
	// OnFeedGap: FailClosed (default) or FallBackToIntrospection.
	OnFeedGap GapPolicy
	// MaxFeedGap is how long the revocation feed may be lost before
	// tokens issued before the loss are refused (default 5s). Within it,
	// revocations made during the loss are not yet known.
	MaxFeedGap time.Duration

	// Leeway tolerates clock skew with the issuer on exp, nbf, iat and the
	// feed-loss rule (default 10s).
	Leeway time.Duration
	// KeyRefetchInterval is the least time between two fetches of the key
	// set caused by unknown kids (default 30s), so that tokens with made-up
	// kids cannot hammer the issuer.
	KeyRefetchInterval time.Duration
	// KeyRefreshInterval is how often the key set is re-read anyway, to
	// follow rotations before new keys sign (default 5m).
	KeyRefreshInterval time.Duration
	// StreamIdleTimeout ends a feed stream that has been silent this long
	// (default 45s; Tollgate sends a keep-alive every 15s).
	StreamIdleTimeout time.Duration
	// RequestTimeout bounds each request to the issuer other than the
	// feed stream (default 10s).
	RequestTimeout time.Duration
	// CacheSize bounds the verified-token cache (default 10,000 tokens).
	CacheSize int
	// IntrospectionCacheTTL is how long an introspection answer is reused
	// (default 10s, never past the token's exp): a revocation can take this
	// long to be noticed in Introspect mode.
	IntrospectionCacheTTL time.Duration

	// HTTPClient makes the requests (default: a client on
	// http.DefaultTransport). It must not set Timeout: the feed stream is
	// long-lived; RequestTimeout bounds the other requests.
	HTTPClient *http.Client
	// Logger receives feed, key-set and rejection events; nil logs nothing.
	// Tokens are never logged, only their jti.
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// withDefaults fills in defaults and reports every problem at once.
func (o Options) withDefaults() (Options, error) {
	var errs []error
	if u, err := url.Parse(o.Issuer); o.Issuer == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, errors.New("verify: Issuer must be the issuer's absolute http(s) URL"))
	}
	if o.Audience == "" {
		errs = append(errs, errors.New("verify: Audience is required (RFC 9068 §4: a resource server checks aud)"))
	}
	switch {
	case o.ClientID == "" || (o.ClientSecret == "" && o.ClientKey == nil):
		errs = append(errs, errors.New("verify: ClientID and ClientSecret (or ClientKey) are required: a client with the tollgate:introspect scope"))
	case o.ClientSecret != "" && o.ClientKey != nil:
		errs = append(errs, errors.New("verify: give ClientSecret or ClientKey, not both"))
	case o.ClientKey != nil && o.Mode != Introspect:
		errs = append(errs, errors.New("verify: ClientKey (private_key_jwt) works in Introspect mode only: the revocation feed is read with GET, which carries no assertion"))
	}
	if o.Mode != Local && o.Mode != Introspect {
		errs = append(errs, errors.New("verify: unknown Mode"))
	}
	if o.OnFeedGap != FailClosed && o.OnFeedGap != FallBackToIntrospection {
		errs = append(errs, errors.New("verify: unknown OnFeedGap policy"))
	}
	if o.HTTPClient != nil && o.HTTPClient.Timeout != 0 {
		errs = append(errs, errors.New("verify: HTTPClient must not set Timeout (the revocation stream is long-lived); use RequestTimeout"))
	}
	for _, d := range []time.Duration{o.MaxFeedGap, o.Leeway, o.KeyRefetchInterval, o.KeyRefreshInterval, o.StreamIdleTimeout, o.RequestTimeout, o.IntrospectionCacheTTL} {
		if d < 0 {
			errs = append(errs, errors.New("verify: durations must not be negative"))
			break
		}
	}
	if o.CacheSize < 0 {
		errs = append(errs, errors.New("verify: CacheSize must not be negative"))
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.MaxFeedGap, 5*time.Second)
	def(&o.Leeway, 10*time.Second)
	def(&o.KeyRefetchInterval, 30*time.Second)
	def(&o.KeyRefreshInterval, 5*time.Minute)
	def(&o.StreamIdleTimeout, 45*time.Second)
	def(&o.RequestTimeout, 10*time.Second)
	def(&o.IntrospectionCacheTTL, 10*time.Second)
	if o.CacheSize == 0 {
		o.CacheSize = 10_000
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, errors.Join(errs...)
}
