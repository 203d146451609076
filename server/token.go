package server

import (
	"log/slog"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/server/grant"
	"github.com/tollgate/tollgate/server/oauth"
)

// tokenResponse is RFC 6749 §5.1.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
	// IssuedTokenType answers a token exchange (RFC 8693 §2.2.1).
	IssuedTokenType string `json:"issued_token_type,omitempty"`
}

// tokenHandler serves POST /oauth2/token. The client authenticates with
// HTTP Basic or form credentials; the engine checks them.
func tokenHandler(tokens TokenIssuer, g *guard, proofs *tokenProofs, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		usedBasic := len(c.Request.Header.Values("Authorization")) > 0
		req, err := tokenRequest(c.Request)
		if err == nil {
			req.KeyThumbprint, err = proofs.check(c)
		}
		if err != nil {
			renderOAuthError(c, log, err, usedBasic)
			return
		}
		c.Set(ctxGrantType, req.GrantType)
		// A token exchange needs no client credentials (the API key
		// authenticates it), but ones that are sent are checked and
		// budgeted like any other.
		a := attempt{ip: callerAddress(c), clientID: req.ClientID}
		if req.GrantType == grant.Password {
			a.username = req.Form.Get("username")
		}
		if g.locked(c, a) {
			return
		}
		if req.ClientID != "" {
			c.Set(ctxClientID, req.ClientID)
		}
		var tok *grant.Token
		if req.GrantType == grant.TokenExchange {
			tok, err = tokens.Exchange(c.Request.Context(), req)
		} else {
			tok, err = tokens.Token(c.Request.Context(), req)
		}
		if err != nil {
			if b, ok := blamed(a, err, req.GrantType); ok {
				g.failed(b)
			}
			renderOAuthError(c, log, err, usedBasic)
			return
		}
		g.succeeded(c.Request.Context(), a)
		c.Set(ctxJTI, tok.JTI)
		noStore(c)
		c.JSON(http.StatusOK, tokenResponse{
			AccessToken:     tok.AccessToken,
			TokenType:       tok.TokenType,
			ExpiresIn:       tok.ExpiresIn,
			RefreshToken:    tok.RefreshToken,
			Scope:           tok.Scope,
			IssuedTokenType: tok.IssuedTokenType,
		})
	}
}

// tokenRequest validates the transport-level parts of a token request.
func tokenRequest(r *http.Request) (*grant.Request, error) {
	form, err := parseForm(r)
	if err != nil {
		return nil, err
	}
	cc, err := extractClient(r, form)
	if err != nil {
		return nil, err
	}
	gt := form.Get("grant_type")
	if gt == "" {
		return nil, oauth.New(oauth.InvalidRequest, "grant_type is required")
	}
	if gt != grant.TokenExchange && !slices.Contains(grant.Supported, gt) {
		return nil, oauth.New(oauth.UnsupportedGrantType, "supported grant types: client_credentials, password, refresh_token, "+grant.TokenExchange)
	}
	return &grant.Request{GrantType: gt, ClientID: cc.ID, ClientSecret: cc.Secret, ClientAssertion: cc.Assertion, Form: form}, nil
}
