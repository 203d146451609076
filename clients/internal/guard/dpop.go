package guard

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/tollgate/tollgate/clients/dpop"
	"github.com/tollgate/tollgate/clients/verify"
)

const codeInvalidDPoPProof = "invalid_dpop_proof"

// dpopAlgs ends a DPoP challenge (RFC 9449 §7.1).
var dpopAlgs = `, algs="` + strings.Join(dpop.Algorithms, " ") + `"`

// DPoP is how Authenticate checks the proofs of DPoP-bound tokens.
type DPoP struct {
	Checker *dpop.Checker
	// ExternalURL is the scheme, host and port clients address, e.g.
	// https://api.example.com behind a proxy or load balancer. Empty:
	// taken from the request (its TLS state and Host header).
	ExternalURL string
}

// NewDPoP applies opts to the default: a Checker with its own replay
// cache, and the URL from the request.
func NewDPoP[O ~func(*DPoP)](opts []O) *DPoP {
	d := &DPoP{}
	for _, o := range opts {
		o(d)
	}
	if d.Checker == nil {
		d.Checker = dpop.NewChecker(dpop.CheckerOptions{})
	}
	return d
}

// requestURL is the URL a proof's htu must name: the external origin and
// the request's path.
func (d *DPoP) requestURL(r *http.Request) string {
	origin := strings.TrimSuffix(d.ExternalURL, "/")
	if origin == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		origin = scheme + "://" + r.Host
	}
	return origin + r.URL.EscapedPath()
}

// VerifyFunc verifies an access token.
type VerifyFunc func(context.Context, string) (*verify.Principal, error)

// Authenticate reads and verifies the request's access token: a bearer
// token (RFC 6750), or a DPoP-bound one with its proof (RFC 9449 §7). It
// returns no Principal and no Failure when the request has no token.
func Authenticate(r *http.Request, v VerifyFunc, d *DPoP) (*verify.Principal, *Failure) {
	tok, dpopScheme, err := Credentials(r.Header)
	if errors.Is(err, ErrNoToken) {
		return nil, nil
	}
	if err != nil {
		return nil, HeaderFailure(err)
	}
	p, err := v(r.Context(), tok)
	if err != nil {
		f := VerifyFailure(err)
		f.DPoP = dpopScheme && f.Status == http.StatusUnauthorized
		return nil, f
	}
	if !dpopScheme {
		if p.KeyThumbprint != "" { // RFC 9449 §7.2: never as a bearer token
			return nil, &Failure{Status: http.StatusUnauthorized, Code: codeInvalidToken,
				Description: "this access token is DPoP-bound: send it as Authorization: DPoP, with a DPoP proof"}
		}
		return p, nil
	}
	if p.KeyThumbprint == "" {
		return nil, &Failure{Status: http.StatusUnauthorized, Code: codeInvalidToken, DPoP: true,
			Description: "this access token is not DPoP-bound: send it as Authorization: Bearer"}
	}
	proofs := r.Header.Values(dpop.Header)
	if len(proofs) != 1 {
		return nil, proofFailure("send one DPoP header with a proof for this request")
	}
	jkt, err := d.Checker.Check(proofs[0], dpop.Request{Method: r.Method, URL: d.requestURL(r), AccessToken: tok})
	if err != nil {
		return nil, proofFailure(strings.TrimPrefix(err.Error(), "dpop: "))
	}
	if jkt != p.KeyThumbprint {
		return nil, proofFailure("the proof is signed by another key than the one the token is bound to")
	}
	return p, nil
}

func proofFailure(d string) *Failure {
	return &Failure{Status: http.StatusUnauthorized, Code: codeInvalidDPoPProof, Description: d, DPoP: true}
}
