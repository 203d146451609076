package tokensource

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/tollgate/tollgate/clients/dpop"
)

// maxBody bounds a token response.
const maxBody = 1 << 20

// maxRetryAfter caps a server's Retry-After.
const maxRetryAfter = 10 * time.Minute

// tokenResponse is RFC 6749 §5.1, with RFC 8693 §2.2.1's issued_token_type.
type tokenResponse struct {
	AccessToken     string `json:"access_token"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int64  `json:"expires_in"`
	Scope           string `json:"scope"`
	IssuedTokenType string `json:"issued_token_type"`
}

// request POSTs the grant to the token endpoint. A failure is an
// *oauth2.RetrieveError when the server answered (RFC 6749 §5.2), with
// the Retry-After it sent.
func (s *Source) request() (*oauth2.Token, time.Duration, error) {
	tok, retry, err := s.requestOnce()
	var re *oauth2.RetrieveError
	if s.prover != nil && errors.As(err, &re) && re.ErrorCode == "use_dpop_nonce" && re.Response.Header.Get(dpop.NonceHeader) != "" {
		// RFC 9449 §8: the server wants its nonce in the proof; once.
		return s.requestOnce()
	}
	return tok, retry, err
}

func (s *Source) requestOnce() (*oauth2.Token, time.Duration, error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.o.Timeout)
	defer cancel()
	form, err := s.requestForm()
	if err != nil {
		return nil, 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	s.auth(req)
	if s.prover != nil {
		proof, err := s.prover.Proof(http.MethodPost, s.tokenURL, "", s.dpopNonce())
		if err != nil {
			return nil, 0, fmt.Errorf("tokensource: %w", err)
		}
		req.Header.Set(dpop.Header, proof)
	}
	start := s.o.Now()
	resp, err := s.o.HTTPClient.Do(req)
	if err != nil {
		s.o.Logger.LogAttrs(ctx, slog.LevelWarn, "token request failed", slog.String("grant_type", s.form.Get("grant_type")), slog.String("error", err.Error()))
		return nil, 0, fmt.Errorf("tokensource: %w", err)
	}
	defer resp.Body.Close()
	if n := resp.Header.Get(dpop.NonceHeader); n != "" && s.prover != nil {
		s.nonce.Store(&n) // §8.2: the newest nonce, for the next proof
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, 0, fmt.Errorf("tokensource: reading the token response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		re := retrieveError(resp, body)
		s.o.Logger.LogAttrs(ctx, slog.LevelWarn, "token request refused", slog.String("grant_type", s.form.Get("grant_type")),
			slog.Int("status", resp.StatusCode), slog.String("error", re.ErrorCode))
		return nil, parseRetryAfter(resp.Header.Get("Retry-After"), s.o.Now()), re
	}
	tok, err := s.parse(body, start)
	if err != nil {
		return nil, 0, err
	}
	return tok, 0, nil
}

// parse checks a successful token response. Expiry counts from when the
// request was sent, so it is never later than the server's.
func (s *Source) parse(body []byte, start time.Time) (*oauth2.Token, error) {
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return nil, errors.New("tokensource: the token response is not JSON")
	}
	switch {
	case tr.AccessToken == "":
		return nil, errors.New("tokensource: the token response has no access_token")
	case s.prover != nil && !strings.EqualFold(tr.TokenType, dpop.Scheme): // RFC 9449 §5
		return nil, fmt.Errorf("tokensource: token_type %.20q is not DPoP: the server did not bind the token to the DPoP key (does it support DPoP?)", tr.TokenType)
	case s.prover == nil && !strings.EqualFold(tr.TokenType, "Bearer"): // RFC 6749 §7.1
		return nil, fmt.Errorf("tokensource: token_type %.20q is not Bearer", tr.TokenType)
	case tr.ExpiresIn <= 0:
		return nil, errors.New("tokensource: the token response has no positive expires_in")
	case s.wantIssued != "" && tr.IssuedTokenType != "" && tr.IssuedTokenType != s.wantIssued:
		// RFC 8693 §2.2.1 requires issued_token_type; it is tolerated if
		// absent, never if it names another kind of token.
		return nil, fmt.Errorf("tokensource: issued_token_type %.80q is not an access token", tr.IssuedTokenType)
	}
	tok := &oauth2.Token{
		AccessToken: tr.AccessToken,
		TokenType:   s.tokenType(),
		Expiry:      start.Add(time.Duration(tr.ExpiresIn) * time.Second),
		ExpiresIn:   tr.ExpiresIn,
	}
	return tok.WithExtra(map[string]any{"scope": tr.Scope}), nil
}

// retrieveError describes a refused request as golang.org/x/oauth2 does.
func retrieveError(resp *http.Response, body []byte) *oauth2.RetrieveError {
	re := &oauth2.RetrieveError{Response: resp, Body: body}
	var e struct {
		Code        string `json:"error"`
		Description string `json:"error_description"`
		URI         string `json:"error_uri"`
	}
	if json.Unmarshal(body, &e) == nil {
		re.ErrorCode, re.ErrorDescription, re.ErrorURI = e.Code, e.Description, e.URI
	}
	return re
}

// parseRetryAfter reads Retry-After (RFC 9110 §10.2.3): seconds or an
// HTTP-date. Garbage and past dates count as absent.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		d = time.Duration(min(max(n, 0), int64(maxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// jitter returns a random duration in [d/2, d], so that many instances
// that failed together do not retry together.
func jitter(d time.Duration) time.Duration {
	var b [8]byte
	_, _ = rand.Read(b[:])
	half := uint64(d / 2)
	return d/2 + time.Duration(binary.LittleEndian.Uint64(b[:])%(half+1))
}
