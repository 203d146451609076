package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// metadataPath is where Tollgate serves its RFC 8414 metadata, relative to
// the issuer (Tollgate's endpoints are all issuer + path).
const metadataPath = "/.well-known/oauth-authorization-server"

// metadata is the part of the RFC 8414 document the verifier uses.
type metadata struct {
	Issuer                string `json:"issuer"`
	JWKSURI               string `json:"jwks_uri"`
	IntrospectionEndpoint string `json:"introspection_endpoint"`
	// Tollgate's revocation feed (RFC 8414 §2 allows additional metadata).
	RevocationFeed       string `json:"revocation_feed_endpoint"`
	RevocationFeedStream string `json:"revocation_feed_stream_endpoint"`
	// Where the audiences' private keys are (issue 15); absent from older
	// documents, then Issuer + audienceKeysPath.
	AudienceKeysEndpoint string `json:"audience_keys_endpoint"`
}

// Response size limits: a hostile or broken issuer must not exhaust memory.
const (
	maxSmallBody = 1 << 20  // metadata, JWKS, introspection
	maxFeedBody  = 64 << 20 // a full revocation set
)

// discover reads the issuer's metadata and checks that it names the
// endpoints mode needs.
func discover(ctx context.Context, o *Options) (*metadata, error) {
	var m metadata
	if err := getJSON(ctx, o, o.Issuer+metadataPath, false, maxSmallBody, &m); err != nil {
		return nil, fmt.Errorf("verify: reading the issuer's metadata: %w", err)
	}
	// RFC 8414 §3.3: the issuer in the document must be the one asked for,
	// or an attacker's document could redirect the key set.
	if m.Issuer != o.Issuer {
		return nil, fmt.Errorf("verify: the metadata at %s names issuer %q, not %q", o.Issuer+metadataPath, m.Issuer, o.Issuer)
	}
	need := map[string]string{}
	if o.Mode == Local {
		need["jwks_uri"] = m.JWKSURI
		need["revocation_feed_endpoint"] = m.RevocationFeed
		need["revocation_feed_stream_endpoint"] = m.RevocationFeedStream
		if m.AudienceKeysEndpoint == "" {
			m.AudienceKeysEndpoint = o.Issuer + audienceKeysPath
		}
		need["audience_keys_endpoint"] = m.AudienceKeysEndpoint
	}
	if o.Mode == Introspect || o.OnFeedGap == FallBackToIntrospection {
		need["introspection_endpoint"] = m.IntrospectionEndpoint
	}
	for name, v := range need {
		if u, err := url.Parse(v); v == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") {
			return nil, fmt.Errorf("verify: the issuer's metadata has no usable %s (is it Tollgate?)", name)
		}
	}
	return &m, nil
}

// statusError is a non-2xx answer from the issuer.
type statusError struct {
	url        string
	code       int
	retryAfter time.Duration
	detail     string
}

func (e *statusError) Error() string {
	msg := fmt.Sprintf("%s answered %d", e.url, e.code)
	if e.detail != "" {
		msg += ": " + e.detail
	}
	switch e.code {
	case http.StatusUnauthorized:
		msg += " (check ClientID and ClientSecret)"
	case http.StatusForbidden:
		msg += ` (the client needs the tollgate:introspect scope: tollgate client create --scopes "tollgate:introspect")`
	}
	return msg
}

// checkStatus turns a non-200 response into a *statusError, reading the
// OAuth error description (RFC 6749 §5.2) and Retry-After if present.
func checkStatus(resp *http.Response) error {
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	e := &statusError{url: resp.Request.URL.Redacted(), code: resp.StatusCode, retryAfter: retryAfter(resp.Header.Get("Retry-After"))}
	var oe struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&oe) == nil && oe.Error != "" {
		e.detail = strings.TrimSpace(oe.Error + " " + oe.Description)
	}
	return e
}

// retryAfter reads a Retry-After value in seconds (RFC 9110 §10.2.3); the
// HTTP-date form and garbage count as absent. Capped at 5 minutes.
func retryAfter(v string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return 0
	}
	return min(time.Duration(n)*time.Second, 5*time.Minute)
}

// getJSON GETs u (with the client's Basic credentials if auth) within the
// request timeout and decodes at most limit bytes of JSON into v.
func getJSON(ctx context.Context, o *Options, u string, auth bool, limit int64, v any) error {
	ctx, cancel := context.WithTimeout(ctx, o.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if auth {
		setBasic(req, o)
	}
	resp, err := o.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer drainClose(resp.Body)
	if err := checkStatus(resp); err != nil {
		return err
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, limit)).Decode(v); err != nil {
		return fmt.Errorf("%s: bad JSON: %w", u, err)
	}
	return nil
}

// setBasic authenticates req as the configured client. RFC 6749 §2.3.1:
// the id and secret are form-encoded before Basic encoding.
func setBasic(req *http.Request, o *Options) {
	req.SetBasicAuth(url.QueryEscape(o.ClientID), url.QueryEscape(o.ClientSecret))
}

// drainClose reads a little of what is left so the connection can be
// reused, then closes.
func drainClose(b io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(b, 4<<10))
	_ = b.Close()
}
