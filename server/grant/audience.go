package grant

import (
	"slices"

	"github.com/tollgate/tollgate/server/oauth"
)

// Encrypter encrypts access tokens to the audiences that receive them as
// nested JWTs (RFC 7519 §5.2, §11.2); *encryption.Ring implements it.
type Encrypter interface {
	// Encrypted reports whether tokens for aud are encrypted; it never
	// blocks.
	Encrypted(aud string) bool
	// Encrypt returns jws as a JWE compact serialization to aud's current
	// key. It fails if aud is not (or no longer) encrypted.
	Encrypt(aud, jws string) (string, error)
}

var errClientAudience = oauth.New(oauth.InvalidTarget, "this client may not get tokens for that audience; ask for one of the client's audiences")

// clientAudience resolves the aud of a client's token (client_credentials,
// password, refresh_token): its audiences, the server's when it has none,
// or the one of them the audience form parameter names (narrowing, as
// RFC 8693 §2.1 lets an exchange; anything else is invalid_target).
func (e *Engine) clientAudience(own []string, requested string) ([]string, error) {
	if len(own) == 0 {
		own = e.opts.Audience
	}
	if requested == "" {
		return own, e.soleEncrypted(own)
	}
	if !slices.Contains(own, requested) {
		return nil, errClientAudience
	}
	return []string{requested}, nil
}

// soleEncrypted enforces that an audience receiving encrypted tokens is
// its token's only one: a JWE is encrypted to one audience's key, and the
// others could not read it (nor may they see its private claims).
func (e *Engine) soleEncrypted(aud []string) error {
	if e.opts.Encrypter == nil || len(aud) < 2 {
		return nil
	}
	for _, a := range aud {
		if e.opts.Encrypter.Encrypted(a) {
			return oauth.New(oauth.InvalidTarget, "audience "+a+" receives encrypted tokens and must be the token's only audience: ask for it with audience="+a)
		}
	}
	return nil
}

// encryptedTo returns the audience the token for aud is encrypted to, or
// "" for a plain JWS.
func (e *Engine) encryptedTo(aud []string) string {
	if e.opts.Encrypter == nil || len(aud) != 1 || !e.opts.Encrypter.Encrypted(aud[0]) {
		return ""
	}
	return aud[0]
}

// subjectClaims are the extra claims of a token's subject (JSON objects,
// nil for none): public ones go into every token, private ones only into
// encrypted tokens.
type subjectClaims struct {
	public, private []byte
}
