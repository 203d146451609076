package tokensource

import (
	"errors"
	"net/http"

	"github.com/tollgate/tollgate/clients/dpop"
)

// newProver returns the DPoP prover of o.DPoPKey, or nil without one.
func newProver(o Options) (*dpop.Prover, error) {
	if o.DPoPKey == nil {
		return nil, nil
	}
	p, err := dpop.NewProver(o.DPoPKey, o.Now)
	if err != nil {
		return nil, errors.New("tokensource: DPoPKey must be an Ed25519 or P-256 private key")
	}
	return p, nil
}

// dpopNonce is the token endpoint's latest nonce, "" if none.
func (s *Source) dpopNonce() string {
	if n := s.nonce.Load(); n != nil {
		return *n
	}
	return ""
}

// tokenType is the type of the tokens s gets.
func (s *Source) tokenType() string {
	if s.prover != nil {
		return dpop.Scheme
	}
	return "Bearer"
}

// Transport returns an http.RoundTripper that sends every request with a
// token from s: "Authorization: Bearer …", or, with Options.DPoPKey,
// "Authorization: DPoP …" and a fresh proof for that request, bound to
// the token (RFC 9449 §7). base sends the requests (nil:
// http.DefaultTransport):
//
//	client := &http.Client{Transport: src.Transport(nil)}
//	resp, err := client.Get("https://api.example.com/todos")
func (s *Source) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{s: s, base: base}
}

type transport struct {
	s    *Source
	base http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	closeBody := func() {
		if req.Body != nil {
			_ = req.Body.Close()
		}
	}
	tok, err := t.s.TokenContext(req.Context())
	if err != nil {
		closeBody()
		return nil, err
	}
	// A RoundTripper must not change the request it was given.
	r := req.Clone(req.Context())
	if t.s.prover == nil {
		r.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		return t.base.RoundTrip(r)
	}
	proof, err := t.s.prover.Proof(req.Method, req.URL.String(), tok.AccessToken, "")
	if err != nil {
		closeBody()
		return nil, err
	}
	r.Header.Set("Authorization", dpop.Scheme+" "+tok.AccessToken)
	r.Header.Set(dpop.Header, proof)
	return t.base.RoundTrip(r)
}
