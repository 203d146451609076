"""Bearer checks for Tollgate access tokens in Flask, with PyJWT.

Tokens are RFC 9068 JWTs (header typ "at+jwt"), signed with EdDSA (Ed25519,
Tollgate's default) or ES256, and verified locally against Tollgate's JWKS:
no call to Tollgate per request, so a revoked token stays valid here until
its exp (minutes). Works with PyJWT 2.6 (Debian bookworm's python3-jwt) and
later; EdDSA needs python3-cryptography.
"""

import functools
import json
import re
import threading
import time
import urllib.request

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from flask import g, jsonify, request

# RFC 6750 §2.1: "Bearer" then one b64token; the scheme is case-insensitive.
_BEARER = re.compile(r"^Bearer +([A-Za-z0-9\-._~+/]+=*)$", re.IGNORECASE)


class JWKSUnavailable(Exception):
    """Tollgate's JWKS could not be fetched: the token may well be valid."""


class TollgateJWKS(jwt.PyJWKClient):
    """PyJWKClient with a fetch timeout and a refetch cooldown.

    PyJWKClient caches the key set (lifespan) and refetches it when a token
    names an unknown kid; the cooldown keeps tokens with made-up kids from
    making us fetch on every request (Tollgate publishes a new key before it
    signs with it, so a real new kid is already in a fresh fetch).
    """

    def __init__(self, uri, timeout=5.0, cooldown=30.0, lifespan=600):
        super().__init__(uri, cache_jwk_set=True, lifespan=lifespan)
        self._timeout, self._cooldown = timeout, cooldown
        self._lock = threading.Lock()
        self._data, self._fetched = None, 0.0

    def fetch_data(self):
        with self._lock:
            now = time.monotonic()
            if self._data is None or now - self._fetched >= self._cooldown:
                try:
                    with urllib.request.urlopen(self.uri, timeout=self._timeout) as resp:
                        data = json.load(resp)
                except (OSError, ValueError) as e:
                    raise JWKSUnavailable(f"fetching {self.uri}: {e}") from e
                self._data, self._fetched = data, now
            if self.jwk_set_cache is not None:
                self.jwk_set_cache.put(self._data)
            return self._data


def _algorithm(key):
    """The one JWS alg a JWKS key may verify (no alg confusion)."""
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "EdDSA"
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1":
        return "ES256"
    return None


class TollgateBearer:
    """Verifies Tollgate access tokens for one issuer and one audience."""

    def __init__(self, issuer, audience, leeway=30):
        self.issuer, self.audience, self.leeway = issuer, audience, leeway
        self.jwks = TollgateJWKS(issuer + "/.well-known/jwks.json")

    def verify(self, token):
        """Returns the token's claims or raises jwt.PyJWTError or JWKSUnavailable."""
        key = self.jwks.get_signing_key_from_jwt(token).key
        alg = _algorithm(key)
        if alg is None:
            raise jwt.InvalidKeyError("the JWKS key is neither Ed25519 nor P-256")
        decoded = jwt.api_jwt.decode_complete(
            token,
            key,
            algorithms=[alg],
            audience=self.audience,
            issuer=self.issuer,
            leeway=self.leeway,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
        # RFC 9068 §4: typ must be at+jwt (the "application/" prefix may be
        # given, RFC 7515 §4.1.9), so an ID token or other JWT is refused.
        typ = str(decoded["header"].get("typ", "")).lower()
        if typ.removeprefix("application/") != "at+jwt":
            raise jwt.InvalidTokenError("typ is not at+jwt")
        return decoded["payload"]

    def require_scope(self, scope):
        """Decorator: a valid token whose space-separated scope holds scope.

        The claims land in flask.g.claims and sub (your user id, or the
        client id for client_credentials) in flask.g.user_id.
        """

        def decorator(view):
            @functools.wraps(view)
            def wrapper(*args, **kwargs):
                values = request.headers.getlist("Authorization")
                if not values or not re.match(r"(?i)bearer(\s|$)", values[0]):
                    # RFC 6750 §3.1: no error code without credentials.
                    return _deny(401, "Bearer", "unauthorized", "this request needs a bearer access token")
                m = _BEARER.match(values[0]) if len(values) == 1 else None
                if m is None:
                    return _invalid("send exactly one Authorization: Bearer header")
                try:
                    claims = self.verify(m.group(1))
                except JWKSUnavailable as e:
                    print(f"notes-api: {e}", flush=True)
                    resp = jsonify(error="temporarily_unavailable", error_description="cannot verify tokens right now")
                    return resp, 503, {"Retry-After": "5"}
                except jwt.PyJWTError:
                    return _invalid("the access token is invalid or expired")
                scopes = str(claims.get("scope", "")).split()
                if scope not in scopes:
                    return _deny(403, f'Bearer error="insufficient_scope", scope="{scope}"',
                                 "insufficient_scope", f"this request needs the scope {scope}")
                g.claims, g.user_id, g.scopes = claims, claims["sub"], scopes
                return view(*args, **kwargs)

            return wrapper

        return decorator


def _invalid(description):
    return _deny(401, f'Bearer error="invalid_token", error_description="{description}"', "invalid_token", description)


def _deny(status, challenge, error, description):
    resp = jsonify(error=error, error_description=description)
    return resp, status, {"WWW-Authenticate": challenge, "Cache-Control": "no-store"}
