package tokensource

import (
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// RFC 8693 names used by the API-key exchange.
const (
	// GrantTypeTokenExchange is the RFC 8693 §2.1 grant type.
	GrantTypeTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	// TokenTypeAPIKey is the subject_token_type of a Tollgate API key.
	TokenTypeAPIKey = "urn:tollgate:params:oauth:token-type:api_key"
	// TokenTypeAccessToken is the issued_token_type of an access token
	// (RFC 8693 §3).
	TokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
)

// Options tune a Source; zero values mean the defaults.
type Options struct {
	// HTTPClient makes the token requests (default: a client on
	// http.DefaultTransport). Timeout bounds each request. Redirects are
	// refused unless it sets CheckRedirect itself.
	HTTPClient *http.Client
	Timeout    time.Duration // default 10s
	// RenewBefore is how long before expiry a token is renewed (default
	// 1m, at most half of the token's lifetime). Until the token expires,
	// a failed renewal leaves the current token in use.
	RenewBefore time.Duration
	// MinBackoff and MaxBackoff bound the wait after a failed request
	// (defaults 1s and 1m, doubling in between). A Retry-After from the
	// server is honoured when longer (up to 10 minutes).
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// Logger receives failed requests; nil logs nothing. Secrets and tokens
	// are never logged.
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// DPoPKey, when set (an Ed25519 or P-256 private key), makes every
	// token request carry a DPoP proof (RFC 9449 §5): the tokens are bound
	// to the key, and only Transport can use them, adding a fresh proof to
	// each request. Keep the key as secret as a client secret.
	DPoPKey crypto.Signer
}

// ClientCredentials configures NewClientCredentials.
type ClientCredentials struct {
	// TokenURL is the token endpoint, e.g. https://auth.example.com/oauth2/token.
	TokenURL     string
	ClientID     string
	ClientSecret string
	// Scopes requested; none means the client's default scopes.
	Scopes []string
	// Audience, if set, asks for tokens for that one of the client's
	// audiences (Tollgate's audience parameter); needed to reach an
	// encrypted audience when the client has several.
	Audience string
	Options
}

// APIKey configures NewAPIKey.
type APIKey struct {
	TokenURL string
	// Key is the API key (tgk_…); it is the only credential sent.
	Key string
	// Scopes narrow the key's scopes; none means all of them.
	Scopes []string
	// Audience, if set, asks for tokens for that audience (RFC 8693 §2.1).
	Audience string
	Options
}

func (o Options) withDefaults() (Options, error) {
	var errs []error
	for _, d := range []time.Duration{o.Timeout, o.RenewBefore, o.MinBackoff, o.MaxBackoff} {
		if d < 0 {
			errs = append(errs, errors.New("tokensource: durations must not be negative"))
			break
		}
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.Timeout, 10*time.Second)
	def(&o.RenewBefore, time.Minute)
	def(&o.MinBackoff, time.Second)
	def(&o.MaxBackoff, time.Minute)
	if o.MaxBackoff < o.MinBackoff {
		errs = append(errs, errors.New("tokensource: MaxBackoff is less than MinBackoff"))
	}
	// A copy, so that the caller's client is left as it was.
	var c http.Client
	if o.HTTPClient != nil {
		c = *o.HTTPClient
	}
	if c.CheckRedirect == nil {
		c.CheckRedirect = refuseRedirect
	}
	o.HTTPClient = &c
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, errors.Join(errs...)
}

func checkTokenURL(u string) error {
	pu, err := url.Parse(u)
	if u == "" || err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" {
		return errors.New("tokensource: TokenURL must be the token endpoint's absolute http(s) URL")
	}
	return nil
}

// checkScopes refuses scopes that are not RFC 6749 §3.3 scope-tokens,
// which would change meaning once joined with spaces.
func checkScopes(scopes []string) error {
	for _, s := range scopes {
		if s == "" || strings.ContainsFunc(s, func(r rune) bool { return r < 0x21 || r == '"' || r == '\\' || r > 0x7e }) {
			return errors.New("tokensource: every scope must be a scope-token (printable ASCII, no spaces, quotes or backslashes)")
		}
	}
	return nil
}

// refuseRedirect keeps token requests where TokenURL says. RFC 6749 gives
// the token endpoint no redirects, and a followed 307 or 308 would send
// the request again, credentials in its body (an API key, a client
// assertion) included, to wherever the answer points.
func refuseRedirect(req *http.Request, _ []*http.Request) error {
	return fmt.Errorf("the token endpoint redirected to %s; token requests carry credentials and are not followed: set TokenURL to the endpoint itself", req.URL.Redacted())
}
