"""Machine clients: the ``client_credentials`` grant with a ``private_key_jwt`` client
assertion (RFC 7523 §2.2, RFC 7521 §4.2).

The assertion must be signed with the algorithm the client's registered key fixes
(ES256 or EdDSA), name the client as ``iss`` and ``sub``, name our token endpoint (or
issuer) as ``aud``, expire soon, and carry a ``jti`` that has never been seen: every
``jti`` is kept until its assertion expires, so a captured assertion cannot be
replayed."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from auth.accounts import client_algorithm
from auth.enums import AccountKind, Channel, Scope
from auth.identity import Identity
from auth.models import ServiceClient, UsedAssertion
from auth.tokens import LEEWAY
from auth.viewer import Viewer

GRANT_TYPE = "client_credentials"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass(frozen=True)
class OAuthError(Exception):
    """An RFC 6749 §5.2 error response."""

    error: str
    description: str
    status: int = 400


# the one description of every refused client authentication: which check failed is
# nobody's business but the hub's
REFUSED = "client authentication failed"


def _refuse() -> OAuthError:
    return OAuthError("invalid_client", REFUSED, 401)


async def client_credentials(identity: Identity, form: Mapping[str, str]) -> dict[str, Any]:
    if form.get("grant_type") != GRANT_TYPE:
        raise OAuthError("unsupported_grant_type", "only client_credentials is supported")
    assertion = form.get("client_assertion")
    if form.get("client_assertion_type") != ASSERTION_TYPE or not assertion:
        raise _refuse()
    try:
        client_id = jwt.decode(assertion, options={"verify_signature": False})["iss"]
    except (jwt.PyJWTError, KeyError):
        raise _refuse() from None
    if not _text(client_id):
        raise _refuse()
    if form.get("client_id", client_id) != client_id:
        raise _refuse()
    async with identity.store.sessions() as session:
        now = identity.clock.now()
        client = await session.get(ServiceClient, client_id)
        if client is None or client.disabled:
            raise _refuse()
        claims = _verify_assertion(identity, client, assertion, now)
        scopes = _granted_scopes(client, form.get("scope"))
        # forget assertions that can no longer be replayed anyway
        await session.execute(delete(UsedAssertion).where(UsedAssertion.expires_at < now))
        session.add(
            UsedAssertion(
                client_id=client_id,
                jti=claims["jti"][:128],
                expires_at=dt.datetime.fromtimestamp(int(claims["exp"]), dt.UTC) + LEEWAY,
            )
        )
        try:
            await session.commit()
        except IntegrityError:
            raise OAuthError("invalid_grant", "the assertion was used already") from None
        viewer = Viewer(
            kind=AccountKind.SERVICE,
            subject=client_id,
            channel=Channel.SYSTEM,
            jurisdiction=client.division_code,
            scopes=frozenset(scopes),
        )
    issued = await identity.issue(viewer)
    return {
        "access_token": issued.token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "scope": " ".join(sorted(s.value for s in scopes)),
    }


def _verify_assertion(
    identity: Identity, client: ServiceClient, assertion: str, now: dt.datetime
) -> dict[str, Any]:
    settings = identity.settings
    try:
        algorithm = client_algorithm(client.public_jwk)
        key = jwt.PyJWK(client.public_jwk, algorithm).key
        claims: dict[str, Any] = jwt.decode(
            assertion,
            key,
            algorithms=[algorithm],
            audience=[settings.token_endpoint, settings.issuer],
            issuer=client.client_id,
            options={
                "require": ["iss", "sub", "aud", "exp", "jti"],
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except Exception:
        raise _refuse() from None
    stamp = now.timestamp()
    leeway = LEEWAY.total_seconds()
    exp = _numeric_date(claims["exp"])
    _numeric_date(claims.get("iat", stamp))
    nbf = _numeric_date(claims.get("nbf", stamp))
    jti = claims["jti"]
    if claims["sub"] != client.client_id or not _text(jti):
        raise _refuse()
    if (
        exp <= stamp - leeway  # expired
        or exp - stamp > settings.assertion_max_seconds + leeway  # not short-lived
        or nbf > stamp + leeway  # not valid yet
    ):
        raise _refuse()
    return claims


def _text(value: object) -> bool:
    """A claim a store may hold: a non-empty printable string (no NUL, no lone
    surrogate, no control character)."""
    return isinstance(value, str) and bool(value.strip()) and value.isprintable()


def _numeric_date(value: object) -> float:
    """A JWT NumericDate (RFC 7519 §2): a finite JSON number, not a string, a list, an
    object or a boolean."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _refuse()
    return float(value)


def _granted_scopes(client: ServiceClient, requested: str | None) -> frozenset[Scope]:
    allowed = frozenset(Scope(s) for s in client.scopes)
    if not requested:
        return allowed
    try:
        asked = frozenset(Scope(s) for s in requested.split())
    except ValueError:
        raise OAuthError("invalid_scope", "unknown scope") from None
    if not asked <= allowed:
        raise OAuthError("invalid_scope", "scope not granted to this client")
    return asked
