package verify

import "errors"

// Verification errors. Verify wraps exactly one of them (ErrNotVouching
// only together with ErrUnavailable); compare with errors.Is. Every one but ErrUnavailable means the token must be refused
// as invalid (RFC 6750 §3.1 invalid_token); ErrUnavailable means the
// verifier could not decide and the request should be retried later.
var (
	// ErrMalformed: not a compact JWS or JWE, bad encoding, a crit header,
	// or a required claim (RFC 9068 §2.2) missing.
	ErrMalformed = errors.New("verify: malformed token")
	// ErrAlgorithm: the alg is not EdDSA or ES256 (so never "none" or an
	// HMAC), or differs from the signing key's.
	ErrAlgorithm = errors.New("verify: signature algorithm not allowed")
	// ErrType: the typ header is not at+jwt (RFC 9068 §4), or introspection
	// describes something other than an access token.
	ErrType = errors.New("verify: not an access token")
	// ErrUnknownKey: no published key has the token's kid, even after a
	// refetch of the key set (or a refetch was not allowed yet).
	ErrUnknownKey = errors.New("verify: unknown signing key")
	// ErrSignature: the signature does not verify.
	ErrSignature = errors.New("verify: invalid signature")
	// ErrUndecryptable: an encrypted token (a JWE, 5 parts) that this
	// verifier cannot or will not decrypt: alg other than ECDH-ES+A256KW
	// or RSA-OAEP-256 (so never "dir" or "none"), enc other than A256GCM,
	// a zip or crit header, cty other than JWT, no kid or a kid that none
	// of the audience's keys has even after a refetch (a token encrypted
	// to another audience), or a ciphertext, tag, IV or header that fails
	// authentication. Once decrypted, the inner token fails with the
	// errors of a plain token (ErrUnknownKey, ErrSignature, ErrAudience,
	// ...). The audience's keys being unreadable (for instance a 403: the
	// client lacks the tollgate:decrypt scope) is ErrUnavailable instead.
	ErrUndecryptable = errors.New("verify: encrypted token cannot be decrypted")
	// ErrExpired: exp has passed (beyond the leeway).
	ErrExpired = errors.New("verify: token expired")
	// ErrNotYetValid: nbf or iat is in the future (beyond the leeway).
	ErrNotYetValid = errors.New("verify: token not yet valid")
	// ErrIssuer: iss is not the configured issuer.
	ErrIssuer = errors.New("verify: wrong issuer")
	// ErrAudience: aud does not contain the configured audience.
	ErrAudience = errors.New("verify: wrong audience")
	// ErrRevoked: the issuer revoked the token, by its jti or by its
	// client or user (see Options).
	ErrRevoked = errors.New("verify: token revoked")
	// ErrInactive: introspection answered that the token is not active.
	ErrInactive = errors.New("verify: token not active")
	// ErrFeedLost: the revocation feed has been lost for longer than
	// Options.MaxFeedGap and the token was issued before the loss, so it may
	// have been revoked meanwhile. A token issued since is accepted: the
	// caller should get a new token.
	ErrFeedLost = errors.New("verify: revocation feed lost; token issued before the loss")
	// ErrUnavailable: introspection (or the key set, or the audience's
	// decryption keys) could not be reached or read to decide about the
	// token. Nothing is known about the token.
	ErrUnavailable = errors.New("verify: issuer unavailable")
	// ErrNotVouching: in Introspect mode, the issuer answered that it
	// cannot vouch for its revocation set right now (503
	// temporarily_unavailable), also after retries. It always comes with
	// ErrUnavailable: nothing is known about the token; retry later.
	ErrNotVouching = errors.New("verify: issuer cannot vouch for its revocation set right now")
	// ErrClosed: Verify was called after Close.
	ErrClosed = errors.New("verify: verifier closed")
)
