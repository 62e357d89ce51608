"""Access tokens (JWT, RFC 9068 profile) and opaque refresh tokens.

An access token is short-lived (``access_token_seconds``, at most 15 minutes), signed
``EdDSA`` with the key its ``kid`` names, typed ``at+jwt``, and bound to a session
(``sid``) that logout revokes at once. Only this module reads a token: the algorithm
is pinned, the key comes from our own key ring (``jku``, ``jwk`` and ``x5u`` headers are
never followed), and times are checked against the hub's injectable clock."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass
from typing import Any

import jwt

from auth.keys import ALGORITHM, KeyRing
from auth.viewer import Viewer

log = logging.getLogger("govhub.auth")

ACCESS_TYPE = "at+jwt"
LEEWAY = dt.timedelta(seconds=30)
_REQUIRED = ["iss", "aud", "sub", "exp", "iat", "jti", "typ", "kind", "chn"]


class InvalidToken(Exception):
    """Any reason a bearer token is refused; the reason is logged, never returned."""


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_in: int


def _timestamp(t: dt.datetime) -> int:
    return int(t.timestamp())


async def issue_access_token(
    viewer: Viewer,
    *,
    keys: KeyRing,
    issuer: str,
    audience: str,
    now: dt.datetime,
    ttl: dt.timedelta,
    not_after: dt.datetime | None = None,
) -> IssuedToken:
    """Sign an access token for ``viewer``; it never outlives ``not_after`` (the
    session's absolute end)."""
    expires = now + ttl if not_after is None else min(now + ttl, not_after)
    claims: dict[str, Any] = {
        **viewer.claims(),
        "iss": issuer,
        "aud": audience,
        "typ": "access",
        "jti": secrets.token_urlsafe(12),
        "iat": _timestamp(now),
        "nbf": _timestamp(now),
        "exp": _timestamp(expires),
    }
    key = await keys.signing_key()
    assert key.private is not None
    token = jwt.encode(
        claims, key.private, algorithm=ALGORITHM, headers={"kid": key.kid, "typ": ACCESS_TYPE}
    )
    return IssuedToken(token, max(0, int((expires - now).total_seconds())))


# tokens whose signature and claims were verified, by (token, issuer, audience): the
# key that verified it, the claims and their viewer (immutable). The same text verifies
# the same way with the same key, so a token seen again is only checked for what can
# change — the key still the ring's (not retired past its verification, not replaced)
# and the times against the hub's clock — not parsed and verified again (PyJWT's parsing
# was ~1,300 Python calls a request). Successes only, at most VERIFIED_MAX, oldest out.
_VERIFIED: dict[tuple[str, str, str], tuple[str, Any, dict[str, Any], Viewer]] = {}
VERIFIED_MAX = 4096


async def decode_access_token(
    token: str, *, keys: KeyRing, issuer: str, audience: str, now: dt.datetime
) -> Viewer:
    seen = _VERIFIED.get((token, issuer, audience))
    if seen is not None:
        seen_kid, verified_by, seen_claims, seen_viewer = seen
        if await keys.public_key(seen_kid) is verified_by:
            _check_times(seen_claims, now)
            return seen_viewer
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as e:
        raise InvalidToken("malformed") from e
    if header.get("alg") != ALGORITHM or header.get("typ") != ACCESS_TYPE:
        raise InvalidToken(f"header alg={header.get('alg')!r} typ={header.get('typ')!r}")
    kid = header.get("kid")
    key = await keys.public_key(kid) if isinstance(kid, str) else None
    if key is None:
        raise InvalidToken(f"unknown kid {kid!r}")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=issuer,
            # times are checked below against the hub's clock, not the machine's
            options={
                "require": _REQUIRED,
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.PyJWTError as e:
        raise InvalidToken(str(e)) from e
    _check_times(claims, now)
    assert isinstance(kid, str)
    try:
        viewer = Viewer.from_claims(claims)
    except (KeyError, ValueError) as e:
        raise InvalidToken("claims") from e
    if len(_VERIFIED) >= VERIFIED_MAX:
        del _VERIFIED[next(iter(_VERIFIED))]
    _VERIFIED[(token, issuer, audience)] = (kid, key, claims, viewer)
    return viewer


def _check_times(claims: dict[str, Any], now: dt.datetime) -> None:
    """Refuse verified claims that are not an access token's within its times."""
    stamp = now.timestamp()
    if claims["typ"] != "access":
        raise InvalidToken("not an access token")
    if not isinstance(claims["exp"], int) or claims["exp"] <= stamp - LEEWAY.total_seconds():
        raise InvalidToken("expired")
    if int(claims.get("nbf", claims["iat"])) > stamp + LEEWAY.total_seconds():
        raise InvalidToken("not yet valid")


def new_opaque_token() -> tuple[str, str]:
    """A random bearer secret and the hash under which it is stored."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
