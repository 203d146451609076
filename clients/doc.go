// Package clients holds no code: its subpackages are what other programs
// import to work with Tollgate.
//
//   - verify validates Tollgate access tokens in a resource server, locally
//     (signature, claims and the issuer's revocation feed) or by
//     introspection, and yields a Principal. Encrypted tokens (nested
//     JWTs) are decrypted with the audience's keys fetched from the issuer,
//     then checked the same way.
//   - bearer protects net/http handlers with it (RFC 6750), and
//     bearer/ginbearer protects Gin routes.
//   - tokensource gets access tokens for a program: client credentials or
//     an API key exchanged per RFC 8693, as an oauth2.TokenSource.
//
// None of them imports Tollgate's server, store, config or command
// packages; they speak to Tollgate only over HTTP. They log nothing unless
// given a *slog.Logger.
package clients
