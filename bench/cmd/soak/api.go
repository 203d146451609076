package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// requestTimeout bounds every request of the load. Tollgate's own write
// timeout (10 s by default) is shorter, so a request that hits it got an
// answer or a cut connection from the server, not from this bound.
const requestTimeout = 30 * time.Second

// maxBody bounds how much of an answer is read.
const maxBody = 64 << 10

// api sends the load's requests, spread round-robin over the nodes.
type api struct {
	hc    *http.Client
	nodes []*node
	rr    atomic.Uint64
}

func newAPI(nodes []*node, conns int) *api {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        conns * nodeCount,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     30 * time.Second,
	}
	return &api{hc: &http.Client{Transport: tr, Timeout: requestTimeout}, nodes: nodes}
}

func (a *api) close() { a.hc.CloseIdleConnections() }

// next returns the node for the next request.
func (a *api) next() int { return int(a.rr.Add(1) % uint64(len(a.nodes))) }

// answer is a request's result.
type answer struct {
	node   int
	sent   time.Time
	took   time.Duration
	status int // 0 when err is set
	body   []byte
	err    error
}

// post sends form to path on node i, authenticated with c over HTTP Basic
// when c is not nil (ids and secrets form-encoded, RFC 6749 §2.3.1).
func (a *api) post(ctx context.Context, i int, path string, form url.Values, c *creds) answer {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.nodes[i].base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return answer{node: i, sent: time.Now(), err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c != nil {
		req.SetBasicAuth(url.QueryEscape(c.id), url.QueryEscape(c.secret))
	}
	return a.do(i, req)
}

// get fetches path from node i.
func (a *api) get(ctx context.Context, i int, path string) answer {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.nodes[i].base+path, nil)
	if err != nil {
		return answer{node: i, sent: time.Now(), err: err}
	}
	return a.do(i, req)
}

func (a *api) do(i int, req *http.Request) answer {
	ans := answer{node: i, sent: time.Now()}
	resp, err := a.hc.Do(req)
	if err == nil {
		ans.body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		ans.status = resp.StatusCode
	}
	ans.took = time.Since(ans.sent)
	if err != nil {
		ans.status, ans.err = 0, err
	}
	return ans
}

// errorKind names a transport error briefly, for the tables.
func errorKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed without an answer"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return "transport error"
}

// oauthError returns the "error" member of an error answer, or "-".
func oauthError(body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error == "" {
		return "-"
	}
	return e.Error
}

// tokenAnswer is a token endpoint's success (RFC 6749 §5.1).
type tokenAnswer struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token"`
	jti, kid     string
}

// parseToken reads a token answer; wantRefresh requires a refresh token.
// The access token's jti comes from its payload, unverified: the soak
// only needs to name the token.
func parseToken(body []byte, wantRefresh bool) (tokenAnswer, error) {
	var t tokenAnswer
	if err := json.Unmarshal(body, &t); err != nil {
		return t, errors.New("token answer is not JSON")
	}
	if t.AccessToken == "" || !strings.EqualFold(t.TokenType, "Bearer") {
		return t, errors.New("token answer without access_token or token_type Bearer")
	}
	if wantRefresh && t.RefreshToken == "" {
		return t, errors.New("token answer without refresh_token")
	}
	var err error
	t.kid, t.jti, err = namesOf(t.AccessToken)
	return t, err
}

// namesOf returns the kid header and the jti claim of a JWT, without
// verifying it: the soak only needs to name the token and its key.
func namesOf(jwt string) (kid, jti string, err error) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return "", "", errors.New("access token is not a JWS compact serialization")
	}
	var h struct {
		KID string `json:"kid"`
	}
	var c struct {
		JTI string `json:"jti"`
	}
	if decodeSegment(parts[0], &h) != nil || decodeSegment(parts[1], &c) != nil || h.KID == "" || c.JTI == "" {
		return "", "", errors.New("access token without a readable kid and jti")
	}
	return h.KID, c.JTI, nil
}

// decodeSegment decodes one base64url JSON segment of a JWS into v.
func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// introspection is the part of an RFC 7662 answer the soak judges.
type introspection struct {
	Active   *bool  `json:"active"`
	JTI      string `json:"jti"`
	TokenUse string `json:"token_use"`
}

// parseIntrospection reads an introspection answer.
func parseIntrospection(body []byte) (introspection, error) {
	var in introspection
	if err := json.Unmarshal(body, &in); err != nil || in.Active == nil {
		return in, errors.New("introspection answer without a boolean active")
	}
	return in, nil
}
