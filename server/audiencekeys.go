package server

import (
	"log/slog"
	"net/http"
	"net/url"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/tollgate/tollgate/server/encryption"
	"github.com/tollgate/tollgate/server/oauth"
	"github.com/tollgate/tollgate/store"
)

// ScopeDecrypt is the scope a client (an API) needs to fetch the
// decryption keys of its encrypted audiences.
const ScopeDecrypt = "tollgate:decrypt"

// errAccessDenied is the code of a refused key fetch (RFC 6749 §4.1.2.1's
// access_denied: the server refuses, whoever the client is).
const errAccessDenied = "access_denied"

// AudienceKeys hands out the decryption keys of the audiences that receive
// encrypted tokens; *encryption.Ring implements it.
type AudienceKeys interface {
	// Encrypted reports whether tokens for aud are encrypted.
	Encrypted(aud string) bool
	// Keys lists the keys of aud that may still decrypt a token, without
	// key material.
	Keys(aud string) []encryption.KeyInfo
	// DecryptionJWKS returns the private JWK Set (RFC 7517 §5) of every
	// key of those audiences that may still decrypt a token.
	DecryptionJWKS(auds []string) []byte
}

// audienceKeysHandler serves GET (HTTP Basic) and POST (any client
// authentication, private_key_jwt included) /oauth2/audience-keys: the
// private keys of the caller's own encrypted audiences, so that the API
// behind one can open the nested tokens sent to it (RFC 7519 §5.2). The
// caller must hold tollgate:decrypt; the answer is never cached.
func audienceKeysHandler(auth ClientAuthenticator, g *guard, ak AudienceKeys, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		var cl *store.Client
		var err error
		requested := c.Query("audience")
		if c.Request.Method == http.MethodPost {
			var form url.Values
			cl, form, err = authenticateForm(c, auth, g)
			requested = form.Get("audience")
		} else {
			cl, err = authenticateBasic(c, auth, g)
		}
		if err == nil && len(c.QueryArray("audience")) > 1 {
			// RFC 6749 §3.1: a parameter is sent at most once; answering
			// for the first of several would hide the caller's mistake.
			err = oauth.New(oauth.InvalidRequest, "give audience at most once")
		}
		if err != nil {
			renderOAuthError(c, log, err, true)
			return
		}
		if !slices.Contains(cl.Scopes, ScopeDecrypt) {
			forbidden(c, "insufficient_scope", "this client may not fetch decryption keys; give it the "+ScopeDecrypt+" scope and one of the encrypted audiences")
			return
		}
		auds := encryptedAudiences(cl.Audience, ak)
		switch {
		case len(auds) == 0:
			forbidden(c, errAccessDenied, "none of this client's audiences receives encrypted tokens")
			return
		case requested != "" && !slices.Contains(auds, requested):
			forbidden(c, errAccessDenied, "that audience is not one of this client's encrypted audiences")
			return
		case requested != "":
			auds = []string{requested}
		}
		noStore(c)
		c.Data(http.StatusOK, "application/jwk-set+json", ak.DecryptionJWKS(auds))
	}
}

// encryptedAudiences returns those of auds whose tokens are encrypted, or
// were until recently: an audience whose encryption was turned off keeps
// its keys until the tokens encrypted to them have expired, and its API
// (a new instance above all) needs them until then.
func encryptedAudiences(auds []string, ak AudienceKeys) []string {
	if ak == nil {
		return nil
	}
	var out []string
	for _, a := range auds {
		if ak.Encrypted(a) || len(ak.Keys(a)) > 0 {
			out = append(out, a)
		}
	}
	return out
}

// forbidden answers 403 with an RFC 6750 §3.1 style error body.
func forbidden(c *gin.Context, code, description string) {
	c.Set(ctxErrorCode, code)
	noStore(c)
	c.JSON(http.StatusForbidden, gin.H{"error": code, "error_description": description})
}
