// Bearer middleware for Tollgate access tokens: RFC 9068 JWTs checked
// locally with jose against Tollgate's JWKS. No call to Tollgate per
// request; a revoked token stays valid here until its exp (minutes).
import { createRemoteJWKSet, errors, jwtVerify } from 'jose';

// RFC 6750 §2.1: "Bearer" then one b64token; the scheme is case-insensitive.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

// tollgateBearer returns { authenticate, requireScope } for one issuer and
// one audience (the aud your Tollgate client was created with).
export function tollgateBearer({ issuer, audience, leewaySeconds = 30 }) {
  // Fetched on first use and cached; an unknown kid refetches at most every
  // 30 s (key rotation publishes the next key before it signs).
  const jwks = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`), {
    timeoutDuration: 5000,
    cooldownDuration: 30000,
    cacheMaxAge: 10 * 60 * 1000,
  });

  async function authenticate(req, res, next) {
    const values = req.headersDistinct?.authorization ?? [];
    if (values.length === 0 || !/^bearer(\s|$)/i.test(values[0])) {
      // RFC 6750 §3.1: no error code when the request has no credentials.
      return deny(res, 401, 'Bearer', 'unauthorized', 'this request needs a bearer access token');
    }
    const m = values.length === 1 ? BEARER.exec(values[0]) : null;
    if (!m) {
      return invalidToken(res, 'send exactly one Authorization: Bearer header');
    }
    let payload;
    try {
      ({ payload } = await jwtVerify(m[1], jwks, {
        issuer,
        audience,
        typ: 'at+jwt', // RFC 9068 §4: not an ID token or any other JWT
        algorithms: ['EdDSA', 'ES256'], // what Tollgate signs with; never none or HMAC
        clockTolerance: leewaySeconds,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (err) {
      if (!(err instanceof errors.JOSEError) || err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) {
        // Tollgate's JWKS is unreachable or broken: the token may be fine.
        console.error(`notes-api: cannot fetch the JWKS: ${err.message}`);
        return res.status(503).set('Retry-After', '5')
          .json({ error: 'temporarily_unavailable', error_description: 'cannot verify tokens right now' });
      }
      return invalidToken(res, 'the access token is invalid or expired');
    }
    req.auth = {
      sub: payload.sub, // your user id (API keys of owner_type "subject"), or the client id
      clientId: payload.client_id,
      scopes: typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [],
      claims: payload,
    };
    return next();
  }

  // requireScope answers 403 insufficient_scope (RFC 6750 §3.1) unless the
  // token's space-separated scope holds scope. Use it after authenticate.
  function requireScope(scope) {
    return (req, res, next) => {
      if (req.auth?.scopes.includes(scope)) return next();
      return deny(res, 403, `Bearer error="insufficient_scope", scope="${scope}"`,
        'insufficient_scope', `this request needs the scope ${scope}`);
    };
  }

  return { authenticate, requireScope };
}

function invalidToken(res, description) {
  return deny(res, 401, `Bearer error="invalid_token", error_description="${description}"`, 'invalid_token', description);
}

function deny(res, status, challenge, error, description) {
  return res.status(status).set('WWW-Authenticate', challenge).set('Cache-Control', 'no-store')
    .json({ error, error_description: description });
}
