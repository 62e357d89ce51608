"""The signed form of a notice (a compact JWS, ``typ`` ``notice+jwt``), made with the
issuing org's e-licence key (``levels/licences/keys.OrgSigner``, ``tokens.sign``) and
opened with the same keys — the hub's JWKS online, the licence kit's JWKS offline.

The claims are short enough for a QR code: who issued what notice of which case, when,
and the SHA-256 of the whole content the document prints (``digest``)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
import orjson
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.ext.asyncio import AsyncSession

from levels.licences.keys import ALGORITHM, OrgSigner, PublicKey
from levels.licences.tokens import sign
from levels.notices.enums import NoticeRefusal
from levels.notices.models import CaseNotice

NOTICE_TYP = "notice+jwt"


def digest(content: dict[str, Any]) -> str:
    """The SHA-256 of the content as stored (keys sorted), in hex."""
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


def notice_claims(row: CaseNotice) -> dict[str, Any]:
    content = row.content
    return {
        "iss": row.org_code,
        "iss_name": content["org"]["name"],
        "jti": row.id,
        "kind": row.kind.value,
        "title": content["title"],
        "case": row.case_number,
        "iat": int(row.issued_at.timestamp()),
        "sha256": digest(content),
    }


async def seal(session: AsyncSession, row: CaseNotice, signer: OrgSigner, now: dt.datetime) -> str:
    """Sign the notice with its org's current key, in the caller's transaction. The
    claims come from the row alone: sealed now or later, they say the same."""
    kid, key = await signer.signing_key(session, row.org_code, now)
    return seal_by(row, kid, key)


def seal_by(row: CaseNotice, kid: str, key: ec.EllipticCurvePrivateKey) -> str:
    """Sign the notice with the org's key ``kid`` (its current one, read by the caller)."""
    row.kid = kid
    row.token = sign(notice_claims(row), kid, key, NOTICE_TYP)
    return row.token


@dataclass(frozen=True)
class NoticeVerdict:
    valid: bool
    refusal: NoticeRefusal | None = None
    claims: dict[str, Any] | None = None


def open_notice(token: str, key_for: Callable[[str], PublicKey | None]) -> NoticeVerdict:
    """Check a presented notice token: a notice, signed by a known key of the org it
    names. Online the caller also asks the issuing store whether it is on record;
    offline (``key_for`` from the licence kit's JWKS) this is the whole check."""
    if not isinstance(token, str) or len(token) > 8_192:
        return NoticeVerdict(False, NoticeRefusal.MALFORMED)
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        return NoticeVerdict(False, NoticeRefusal.MALFORMED)
    kid = header.get("kid")
    if header.get("alg") != ALGORITHM or header.get("typ") != NOTICE_TYP:
        return NoticeVerdict(False, NoticeRefusal.NOT_A_NOTICE)
    key = key_for(kid) if isinstance(kid, str) else None
    if key is None:
        return NoticeVerdict(False, NoticeRefusal.UNKNOWN_KEY)
    try:
        claims = jwt.decode(token, key.key, algorithms=[ALGORITHM], options={"verify_iat": False})
    except jwt.InvalidSignatureError:
        return NoticeVerdict(False, NoticeRefusal.BAD_SIGNATURE)
    except jwt.InvalidTokenError:
        return NoticeVerdict(False, NoticeRefusal.MALFORMED)
    if claims.get("iss") != key.org_code:
        return NoticeVerdict(False, NoticeRefusal.KEY_NOT_OF_ISSUER, claims)
    if not isinstance(claims.get("jti"), str) or not isinstance(claims.get("case"), str):
        return NoticeVerdict(False, NoticeRefusal.MALFORMED)
    return NoticeVerdict(True, None, claims)
