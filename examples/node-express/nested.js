// Opens Tollgate's encrypted access tokens (nested JWTs, RFC 7519 §5.2)
// with jose alone: the JWE is decrypted with a private key fetched from
// Tollgate's /oauth2/audience-keys, then the signed token inside is
// verified against the public JWKS exactly as bearer.js does.
//
//   NOTES_CLIENT_ID=… NOTES_CLIENT_SECRET=… node nested.js ISSUER AUDIENCE < token
//
// The client is the API's own: its audience is AUDIENCE, marked encrypted
// (tollgate audience create AUDIENCE --encrypt), and it holds the scope
// tollgate:decrypt. Prints {"header": the JWE header, "payload": the
// claims, private ones included}; exits 1 on any refused token.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { compactDecrypt, createRemoteJWKSet, decodeProtectedHeader, importJWK, jwtVerify } from 'jose';

// The only algorithms Tollgate encrypts with (RFC 8725 §3.1: allow-list
// them); jose refuses a "zip" header unless given an inflate function.
const keyManagementAlgorithms = ['ECDH-ES+A256KW', 'RSA-OAEP-256'];
const contentEncryptionAlgorithms = ['A256GCM'];

// tollgateNested returns verify(token) → { header, payload } for one
// issuer and one encrypted audience.
export function tollgateNested({ issuer, audience, clientId, clientSecret, leewaySeconds = 30 }) {
  const jwks = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));
  let keys = new Map(); // kid → private key
  let fetchedAt = 0;

  // fetchKeys reads the audience's private keys: the one tokens are
  // encrypted to, a pre-published next one, and retired ones whose tokens
  // may still be live. Never cache them on disk.
  async function fetchKeys() {
    const url = new URL(`${issuer}/oauth2/audience-keys`);
    url.searchParams.set('audience', audience);
    // RFC 6749 §2.3.1: form-encode the id and secret, then Basic.
    const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64');
    const res = await fetch(url, { headers: { Authorization: `Basic ${basic}` }, signal: AbortSignal.timeout(5000) });
    if (!res.ok) {
      throw new Error(`audience-keys: ${res.status} ${(await res.json().catch(() => ({}))).error ?? ''}`);
    }
    const next = new Map();
    for (const jwk of (await res.json()).keys) {
      next.set(jwk.kid, await importJWK(jwk, jwk.alg));
    }
    keys = next;
    fetchedAt = Date.now();
  }

  // keyFor finds kid, refetching (at most every 30 s) when it is unknown:
  // Tollgate publishes a rotated-in key before it encrypts to it.
  async function keyFor(kid) {
    if (!keys.has(kid) && Date.now() - fetchedAt > 30000) {
      await fetchKeys();
    }
    const key = keys.get(kid);
    if (!key) throw new Error('unknown kid');
    return key;
  }

  async function verify(token) {
    const { kid } = decodeProtectedHeader(token);
    const { plaintext, protectedHeader } = await compactDecrypt(token, await keyFor(kid),
      { keyManagementAlgorithms, contentEncryptionAlgorithms });
    if (protectedHeader.cty !== 'JWT') throw new Error('not a nested JWT');
    const { payload } = await jwtVerify(new TextDecoder().decode(plaintext), jwks, {
      issuer,
      audience,
      typ: 'at+jwt',
      algorithms: ['EdDSA', 'ES256'],
      clockTolerance: leewaySeconds,
      requiredClaims: ['exp', 'sub'],
    });
    return { header: protectedHeader, payload };
  }

  return { verify };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [issuer, audience] = process.argv.slice(2);
  const { NOTES_CLIENT_ID: clientId, NOTES_CLIENT_SECRET: clientSecret } = process.env;
  if (!issuer || !audience || !clientId || !clientSecret) {
    console.error('usage: NOTES_CLIENT_ID=… NOTES_CLIENT_SECRET=… node nested.js ISSUER AUDIENCE < token');
    process.exit(2);
  }
  try {
    const out = await tollgateNested({ issuer, audience, clientId, clientSecret })
      .verify(readFileSync(0, 'utf8').trim());
    console.log(JSON.stringify(out));
  } catch (err) {
    console.error(`refused: ${err.code ?? err.message}`); // never the token
    process.exit(1);
  }
}
