package server

import (
	"errors"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/clients/dpop"
	"github.com/tollgate/tollgate/server/oauth"
)

// tokenProofs checks the DPoP proofs sent to the token endpoint (RFC 9449
// §5). Proof IDs are remembered in this node's memory, for the proof's
// window: a proof replayed to another node of a cluster is caught there
// only by its iat window.
type tokenProofs struct {
	checker *dpop.Checker
	url     string // the token endpoint's external URL: the issuer's
	// nonces, when set, are required in every proof (RFC 9449 §8).
	nonces *dpopNonces
}

func newTokenProofs(d Deps) *tokenProofs {
	p := &tokenProofs{
		checker: dpop.NewChecker(dpop.CheckerOptions{Now: d.Now}),
		url:     d.Issuer + pathToken,
	}
	if len(d.DPoPNonceKey) > 0 {
		p.nonces = &dpopNonces{key: d.DPoPNonceKey, now: d.Now}
	}
	return p
}

// check returns the thumbprint of the key whose proof came with r, or ""
// when r has none. A request with a proof that does not verify, or with
// two, is refused (RFC 9449 §4.3), not served as a bearer request.
func (p *tokenProofs) check(c *gin.Context) (string, error) {
	r := c.Request
	proofs := r.Header.Values(dpop.Header)
	switch len(proofs) {
	case 0:
		return "", nil
	case 1:
	default:
		return "", oauth.New(oauth.InvalidDPoPProof, "send one DPoP header")
	}
	req := dpop.Request{Method: r.Method, URL: p.url}
	if p.nonces != nil {
		req.Nonce = p.nonces.valid
		// §8.2: the next nonce rides on every answer, success or error.
		c.Header(dpop.NonceHeader, p.nonces.current())
	}
	jkt, err := p.checker.Check(proofs[0], req)
	if err != nil {
		if errors.Is(err, dpop.ErrUseNonce) {
			return "", oauth.New(oauth.UseDPoPNonce, "this server requires a nonce in DPoP proofs: use the one in the DPoP-Nonce header")
		}
		// The checker's messages name the failed check and carry no secret.
		return "", oauth.New(oauth.InvalidDPoPProof, err.Error())
	}
	return jkt, nil
}
