// Makes DPoP proofs (RFC 9449) with jose, for a Node.js client of an API
// that takes DPoP-bound Tollgate tokens, and for Tollgate's own tests,
// which check their proofs with an implementation other than Tollgate's.
//
//   node dpop.js KEYFILE METHOD URL [ACCESS_TOKEN [NONCE]]
//
// KEYFILE holds the client's private key as a JWK (made on first use,
// mode 0600: keep it like a password). Prints {"proof": …, "jkt": …}: the
// DPoP header to send and the key's thumbprint (the token's cnf.jkt).
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createHash, randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, importJWK, calculateJwkThumbprint } from 'jose';

const [keyFile, method, url, accessToken, nonce] = process.argv.slice(2);
if (!keyFile || !method || !url) {
  console.error('usage: node dpop.js KEYFILE METHOD URL [ACCESS_TOKEN [NONCE]]');
  process.exit(2);
}

if (!existsSync(keyFile)) {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  writeFileSync(keyFile, JSON.stringify(await exportJWK(privateKey)), { mode: 0o600 });
}
const jwk = JSON.parse(readFileSync(keyFile, 'utf8'));
const { d, ...publicJwk } = jwk; // the proof carries the public half only
const key = await importJWK(jwk, 'EdDSA');

const htu = new URL(url);
htu.search = '';
htu.hash = '';
const claims = { htm: method, htu: htu.href, jti: randomUUID() };
if (accessToken) {
  claims.ath = createHash('sha256').update(accessToken).digest('base64url');
}
if (nonce) {
  claims.nonce = nonce;
}
const proof = await new SignJWT(claims)
  .setProtectedHeader({ alg: 'EdDSA', typ: 'dpop+jwt', jwk: publicJwk })
  .setIssuedAt()
  .sign(key);
console.log(JSON.stringify({ proof, jkt: await calculateJwkThumbprint(publicJwk, 'sha256') }));
