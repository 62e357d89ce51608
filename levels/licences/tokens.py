"""The signed forms of a licence: the licence itself (a compact JWS, ``typ``
``licence+jwt``), a purpose-bound copy (加注件, ``licence-copy+jwt``) and an issuer's
status list (``statuslist+jwt``), and how a verifier opens them.

``open_token`` is the one check both verifiers run — online (``verifyLicence``, which
then asks the issuer's store for the current status) and offline (``offline.py``,
which reads a signed status list instead): the header, a known key of the issuer, the
signature, and the validity period."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from levels.common.clock import CHINA
from levels.licences.enums import VerificationOutcome, VerificationReason
from levels.licences.keys import ALGORITHM, PublicKey
from levels.licences.models import ELicence

LICENCE_TYP = "licence+jwt"
COPY_TYP = "licence-copy+jwt"
STATUS_TYP = "statuslist+jwt"


def status_list_path(org_code: str) -> str:
    return f"/licences/status/{org_code}"


def _epoch(day: dt.date) -> int:
    """The first instant of ``day`` in China, as a JWT time."""
    return int(dt.datetime.combine(day, dt.time(), CHINA).timestamp())


def licence_claims(row: ELicence) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": row.issuer_org_code,
        "iss_name": row.issuer_name,
        "iss_div": row.issuer_division_code,
        "jti": row.id,
        "type": {"code": row.type_code, "name": row.type_name},
        "ver": row.version,
        "holder": {
            "kind": row.holder_kind.value,
            "name": row.holder_name,
            "idMasked": row.holder_id_masked,
        },
        "case": row.source_case_number,
        "data": row.data,
        "iat": int(row.issued_at.timestamp()),
        "nbf": _epoch(row.valid_from),
        "status": {
            "type": "BitstringStatusListEntry",
            "statusListIndex": row.status_index,
            "statusListCredential": status_list_path(row.issuer_org_code),
        },
    }
    if row.valid_until is not None:
        claims["exp"] = _epoch(row.valid_until + dt.timedelta(days=1))
    return claims


def sign(claims: dict[str, Any], kid: str, key: ec.EllipticCurvePrivateKey, typ: str) -> str:
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid, "typ": typ})


def copy_claims(
    licence: dict[str, Any],
    *,
    library_org: str,
    purpose: str,
    copy_id: str,
    now: dt.datetime,
    until: dt.datetime,
) -> dict[str, Any]:
    """A 加注件: the licence's claims, annotated with its purpose and a short life, by
    the library."""
    return {
        "iss": library_org,
        "jti": copy_id,
        "purpose": purpose,
        "licence": licence,
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int(until.timestamp()),
    }


def status_list_claims(
    org_code: str, lists: dict[str, str], *, now: dt.datetime, ttl_seconds: int
) -> dict[str, Any]:
    return {
        "iss": org_code,
        "sub": status_list_path(org_code),
        "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + ttl_seconds,
        "ttl": ttl_seconds,
        "lists": lists,
    }


@dataclass
class Verdict:
    outcome: VerificationOutcome
    reason: VerificationReason | None = None
    # the signed claims, once the signature holds
    claims: dict[str, Any] | None = None
    # a copy's annotation (加注件)
    copy: dict[str, Any] | None = field(default=None)

    @property
    def licence(self) -> dict[str, Any] | None:
        """The licence's own claims (inside a copy, the copied licence's)."""
        if self.claims is None:
            return None
        return self.copy["licence"] if self.copy is not None else self.claims


def _refused(reason: VerificationReason) -> Verdict:
    return Verdict(VerificationOutcome.INVALID, reason)


def token_kid(token: str) -> str | None:
    """The ``kid`` a token names, or None when it is not a JWS at all."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        return None
    kid = header.get("kid")
    return kid if isinstance(kid, str) else None


def open_token(
    token: str,
    key_for: Callable[[str], PublicKey | None],
    now: dt.datetime,
    *,
    library_orgs: frozenset[str] = frozenset(),
) -> Verdict:
    """Check a presented licence or copy up to (not including) its current status.

    The verdict is INVALID (with why) for anything that is not a licence of this hub;
    EXPIRED or NOT_YET_VALID outside its validity; otherwise VALID *so far* — the
    caller looks up the status. A copy must be signed by the library
    (``library_orgs``)."""
    if not isinstance(token, str) or len(token) > 16_384:
        return _refused(VerificationReason.MALFORMED)
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        return _refused(VerificationReason.MALFORMED)
    typ, kid = header.get("typ"), header.get("kid")
    if header.get("alg") != ALGORITHM or typ not in (LICENCE_TYP, COPY_TYP):
        return _refused(VerificationReason.NOT_A_LICENCE)
    if not isinstance(kid, str):
        return _refused(VerificationReason.UNKNOWN_KEY)
    key = key_for(kid)
    if key is None:
        return _refused(VerificationReason.UNKNOWN_KEY)
    try:
        claims = jwt.decode(
            token,
            key.key,
            algorithms=[ALGORITHM],
            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
        )
    except jwt.InvalidSignatureError:
        return _refused(VerificationReason.BAD_SIGNATURE)
    except jwt.InvalidTokenError:
        return _refused(VerificationReason.MALFORMED)
    if claims.get("iss") != key.org_code:
        # signed with a key of another org than the one it names
        return _refused(VerificationReason.KEY_NOT_OF_ISSUER)
    copy = None
    if typ == COPY_TYP:
        if key.org_code not in library_orgs or not isinstance(claims.get("licence"), dict):
            return _refused(VerificationReason.NOT_A_LICENCE)
        copy = claims
    licence = copy["licence"] if copy is not None else claims
    if not _well_formed(licence):
        return _refused(VerificationReason.MALFORMED)
    moment = now.timestamp()
    for span in filter(None, (copy, licence)):
        if isinstance(span.get("nbf"), int) and moment < span["nbf"]:
            return Verdict(
                VerificationOutcome.NOT_YET_VALID,
                VerificationReason.NOT_YET_VALID,
                claims,
                copy,
            )
        if isinstance(span.get("exp"), int) and moment >= span["exp"]:
            reason = VerificationReason.COPY_EXPIRED if span is copy else VerificationReason.EXPIRED
            return Verdict(VerificationOutcome.EXPIRED, reason, claims, copy)
    return Verdict(VerificationOutcome.VALID, None, claims, copy)


def _well_formed(licence: dict[str, Any]) -> bool:
    status = licence.get("status")
    return (
        isinstance(licence.get("jti"), str)
        and isinstance(licence.get("iss"), str)
        and isinstance(licence.get("iss_div"), str)
        and isinstance(status, dict)
        and isinstance(status.get("statusListIndex"), int)
    )
