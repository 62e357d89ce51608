"""Accounts and machine clients: the rules of who may exist in the identity store.

Every check a ``govhub user add`` or the demo relies on lives here, so an account that
breaks them cannot be written by any path."""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from jwt.algorithms import ECAlgorithm, OKPAlgorithm
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.enums import AccountKind, Role, Scope
from auth.errors import AuthErrorCode
from auth.idnumbers import id_number_hash, mask_id_number, parse_id_number
from auth.models import Account, ServiceClient
from auth.passwords import hash_password
from levels.common.codes import parse_division, validate_uscc
from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from levels.common.ranges import within

_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")


@dataclass(frozen=True)
class AccountDraft:
    username: str
    kind: AccountKind
    display_name: str
    password: str = ""
    # a hash made earlier (the demo hashes its one password once); wins over password
    password_hash: str | None = None
    id_number: str | None = None  # PERSON
    credit_code: str | None = None  # ENTERPRISE
    org_code: str | None = None  # STAFF
    org_level: Level | None = None  # STAFF
    department_id: str | None = None  # STAFF
    roles: frozenset[Role] = field(default_factory=frozenset)  # STAFF
    division_code: str | None = None  # STAFF (the org's), AGENT (village), AUDITOR


def new_account(draft: AccountDraft, *, secret: bytes, now: dt.datetime) -> Account:
    """A checked, unsaved account. Raises a typed error naming the field at fault."""
    if not _USERNAME.match(draft.username):
        raise DomainError(AuthErrorCode.INVALID_USERNAME, field=["username"])
    kind = draft.kind
    if draft.roles and kind is not AccountKind.STAFF:
        raise DomainError(AuthErrorCode.INVALID_ROLE, field=["roles"])
    if kind is AccountKind.STAFF and not draft.roles:
        raise DomainError(AuthErrorCode.INVALID_ROLE, field=["roles"])
    account = Account(
        id=secrets.token_hex(16),
        username=draft.username,
        kind=kind,
        display_name=draft.display_name,
        password_hash=draft.password_hash or hash_password(draft.password),
        roles=sorted(r.value for r in draft.roles),
        failed_logins=0,
        disabled=False,
        created_at=now,
    )
    if kind is AccountKind.PERSON:
        number = parse_id_number(draft.id_number or "")
        account.id_number_hash = id_number_hash(secret, number)
        account.id_number_masked = mask_id_number(number)
    elif kind is AccountKind.ENTERPRISE:
        account.credit_code = validate_uscc(draft.credit_code or "", field="creditCode")
    elif kind is AccountKind.STAFF:
        account.org_code = validate_uscc(draft.org_code or "", field="orgCode")
        division = parse_division(draft.division_code or "")
        if draft.org_level is not division.level:
            raise DomainError(ErrorCode.LEVEL_MISMATCH, field=["orgLevel"])
        account.org_level = division.level
        account.division_code = division.code
        account.department_id = draft.department_id
    elif kind is AccountKind.AGENT:
        division = parse_division(draft.division_code or "")
        if division.level is not Level.VILLAGE:
            raise DomainError(ErrorCode.LEVEL_MISMATCH, field=["divisionCode"])
        account.division_code = division.code
    elif kind is AccountKind.AUDITOR:
        account.division_code = parse_division(draft.division_code or "").code
    else:
        raise DomainError(AuthErrorCode.INVALID_ROLE, field=["kind"])
    return account


async def add_account(
    draft: AccountDraft, *, session: AsyncSession, secret: bytes, now: dt.datetime
) -> Account:
    account = new_account(draft, secret=secret, now=now)
    taken = await session.scalar(select(Account.id).where(Account.username == account.username))
    if taken is not None:
        raise DomainError(AuthErrorCode.USERNAME_TAKEN, field=["username"])
    for column, value in (
        (Account.id_number_hash, account.id_number_hash),
        (Account.credit_code, account.credit_code),
    ):
        if value is not None and await session.scalar(select(Account.id).where(column == value)):
            raise DomainError(AuthErrorCode.ACCOUNT_EXISTS, field=["idNumber"])
    session.add(account)
    return account


async def account_by_username(username: str, *, session: AsyncSession) -> Account | None:
    return await session.scalar(select(Account).where(Account.username == username))


def client_algorithm(jwk: dict[str, Any]) -> str:
    """The one JWS algorithm a client's key may sign with: ES256 for P-256, EdDSA for
    Ed25519. Anything else is refused when the client is registered."""
    if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
        return "ES256"
    if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
        return "EdDSA"
    raise DomainError(AuthErrorCode.INVALID_CLIENT_KEY, field=["publicKey"])


def public_jwk_from_pem(pem: str | bytes) -> dict[str, Any]:
    """The public JWK of a PEM public (or unencrypted private) key: P-256 or Ed25519."""
    data = pem.encode() if isinstance(pem, str) else pem
    key: Any
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        try:
            key = serialization.load_pem_private_key(data, password=None).public_key()
        except (ValueError, TypeError):
            raise DomainError(AuthErrorCode.INVALID_CLIENT_KEY, field=["publicKey"]) from None
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        jwk: dict[str, Any] = json.loads(ECAlgorithm.to_jwk(key))
    elif isinstance(key, Ed25519PublicKey):
        jwk = json.loads(OKPAlgorithm.to_jwk(key))
    else:
        raise DomainError(AuthErrorCode.INVALID_CLIENT_KEY, field=["publicKey"])
    return jwk


def parse_scopes(values: Iterable[str]) -> list[str]:
    try:
        return sorted({Scope(v).value for v in values})
    except ValueError:
        raise DomainError(AuthErrorCode.INVALID_SCOPE, field=["scopes"]) from None


async def add_client(
    *,
    session: AsyncSession,
    now: dt.datetime,
    client_id: str,
    name: str,
    division_code: str,
    scopes: Iterable[str],
    public_jwk: dict[str, Any],
) -> ServiceClient:
    if not _USERNAME.match(client_id):
        raise DomainError(AuthErrorCode.INVALID_USERNAME, field=["clientId"])
    client_algorithm(public_jwk)
    if await session.get(ServiceClient, client_id) is not None:
        raise DomainError(AuthErrorCode.USERNAME_TAKEN, field=["clientId"])
    client = ServiceClient(
        client_id=client_id,
        name=name,
        division_code=parse_division(division_code).code,
        scopes=parse_scopes(scopes),
        public_jwk={k: v for k, v in public_jwk.items() if k in {"kty", "crv", "x", "y"}},
        disabled=False,
        created_at=now,
    )
    session.add(client)
    return client


async def list_accounts(*, session: AsyncSession, kind: AccountKind | None = None) -> list[Account]:
    """Every account (of one kind, when given), ordered by username."""
    stmt = select(Account).order_by(Account.username)
    if kind is not None:
        stmt = stmt.where(Account.kind == kind)
    return list(await session.scalars(stmt))


async def agents_per_village(prefix: str, *, session: AsyncSession) -> dict[str, int]:
    """How many active (not disabled) village agents (代办员) each village under the
    division-code ``prefix`` has: one GROUP BY."""
    rows = await session.execute(
        select(Account.division_code, func.count())
        .where(
            Account.kind == AccountKind.AGENT,
            Account.disabled.is_(False),
            within(Account.division_code, prefix),
        )
        .group_by(Account.division_code)
    )
    return {village: n for village, n in rows.all() if village}
