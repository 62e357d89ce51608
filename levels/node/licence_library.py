"""The city's licence library (电子证照库) at the node that keeps it (the node holding the
city level, DESIGN §2): its filtered list and a holder's copy (加注件).

``LicenceConditions`` is the list's one rule, as SQL, for the hub's list over a store and
for the node's ``licenceLibrary``, where the hub sends it as JSON (``encode``/``decode``):
the same licences either way, each page one statement, in the order they were issued.

``sign_copy`` signs a copy bound to one purpose with the library's key (its first city
org's, kept in the library's store) and records the use, in the caller's transaction;
``copy_licence`` runs it in the node's own transaction. Who may ask is the hub's check
(the policy table over the library's row it read); the node checks that it keeps the
library (DIVISION_NOT_OWNED otherwise) and that the licence is valid today."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jwt
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from levels.common.models import ServiceOrg
from levels.common.ranges import within
from levels.licences import service
from levels.licences.enums import LicenceStatus, LicenceUseKind
from levels.licences.errors import LicenceErrorCode
from levels.licences.expiry import status_on
from levels.licences.identifiers import parse_licence_id
from levels.licences.keys import OrgSigner
from levels.licences.models import ELicence
from levels.licences.tokens import COPY_TYP, copy_claims, sign
from levels.node.conditions import decoding, optional_account, text_or_none
from levels.node.scope import NodeScope

_TEXT = ("type_code", "issuer_org_code", "case_number")


@dataclass(frozen=True)
class LicenceConditions:
    """What the library's list keeps: ``by_holder`` only ``holder_id``'s licences (the
    wallet); ``within`` those issued under each of these division prefixes (the staff's
    jurisdiction, the filter's division); the type, status, issuing org and case."""

    by_holder: bool = False
    holder_id: str | None = None
    within: tuple[str, ...] = ()
    type_code: str | None = None
    status: LicenceStatus | None = None
    issuer_org_code: str | None = None
    case_number: str | None = None

    def where(self, stmt: Select[Any]) -> Select[Any]:
        if self.by_holder:
            stmt = stmt.where(ELicence.holder_id == self.holder_id)
        for prefix in self.within:
            stmt = stmt.where(within(ELicence.issuer_division_code, prefix))
        if self.type_code is not None:
            stmt = stmt.where(ELicence.type_code == self.type_code)
        if self.status is not None:
            stmt = stmt.where(ELicence.status == self.status)
        if self.issuer_org_code is not None:
            stmt = stmt.where(ELicence.issuer_org_code == self.issuer_org_code)
        if self.case_number is not None:
            stmt = stmt.where(ELicence.source_case_number == self.case_number)
        return stmt

    def encode(self) -> dict[str, Any]:
        """As JSON: the conditions set, the status by name."""
        out: dict[str, Any] = {"within": list(self.within)}
        if self.by_holder:
            out["holder_id"] = self.holder_id
        for name in _TEXT:
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.status is not None:
            out["status"] = self.status.name
        return out

    @classmethod
    def decode(cls, given: Any) -> LicenceConditions:
        """``encode``'s JSON back; BAD_USER_INPUT for anything else."""
        with decoding("a licence filter"):
            if not isinstance(given, dict) or set(given) - {
                "within",
                "holder_id",
                "status",
                *_TEXT,
            }:
                raise ValueError("unknown conditions")
            prefixes = given.get("within", [])
            if not isinstance(prefixes, list) or not all(
                isinstance(p, str) and p.isdigit() for p in prefixes
            ):
                raise ValueError("within")
            values: dict[str, Any] = {"within": tuple(prefixes)}
            for name in _TEXT:
                if given.get(name) is not None:
                    values[name] = text_or_none(given[name], name)
            if given.get("status") is not None:
                values["status"] = LicenceStatus[given["status"]]
            values.update(optional_account(given, "holder_id", "by_holder"))
            return cls(**values)


async def library_page(
    conditions: LicenceConditions,
    *,
    session: AsyncSession,
    after: tuple[dt.datetime, str] | None,
    limit: int,
) -> Sequence[ELicence]:
    """Up to ``limit`` of the library's licences meeting ``conditions``, in the order
    they were issued (then by identifier), after the position ``after``: one statement."""
    stmt = conditions.where(select(ELicence))
    if after is not None:
        at, identifier = after
        stmt = stmt.where(
            (ELicence.issued_at > at) | ((ELicence.issued_at == at) & (ELicence.id > identifier))
        )
    stmt = stmt.order_by(ELicence.issued_at, ELicence.id).limit(limit)
    return (await session.scalars(stmt)).all()


async def library_orgs(session: AsyncSession) -> tuple[str, ...]:
    """The city's service orgs in the library's store: copies are signed with the
    first's key."""
    return tuple(
        await session.scalars(
            select(ServiceOrg.code)
            .where(ServiceOrg.level == Level.CITY)
            .order_by(ServiceOrg.division_code, ServiceOrg.code)
        )
    )


@dataclass(frozen=True)
class CopyRequest:
    """A copy of licence ``identifier`` for ``purpose``, asked by ``used_by``, valid
    until ``until``."""

    identifier: str
    purpose: str
    used_by: str
    until: dt.datetime


async def sign_copy(
    session: AsyncSession,
    row: ELicence,
    ask: CopyRequest,
    *,
    library_org: str,
    signer: OrgSigner,
    now: dt.datetime,
) -> str:
    """The copy's token, signed with ``library_org``'s key, its use recorded in the
    library; LICENCE_NOT_VALID unless the licence is valid today (past its validity it
    is EXPIRED, whether or not the library has heard)."""
    status = status_on(row, service.china_day(now))
    if status is not LicenceStatus.VALID:
        raise DomainError(
            LicenceErrorCode.LICENCE_NOT_VALID, field=["input", "id"], detail=status.value
        )
    original = jwt.decode(row.token, options={"verify_signature": False})
    kid, key = await signer.signing_key(session, library_org, now)
    claims = copy_claims(
        original,
        library_org=library_org,
        purpose=ask.purpose,
        copy_id=service.copy_id(),
        now=now,
        until=ask.until,
    )
    token = sign(claims, kid, key, COPY_TYP)
    use = service.Use(
        licence_id=row.id,
        kind=LicenceUseKind.COPY,
        purpose=ask.purpose,
        used_by=ask.used_by,
        used_at=now,
        expires_at=ask.until,
    )
    await service.record_uses(session, Level.CITY, [use], now)
    return token


@dataclass(frozen=True)
class CopyOutcome:
    """The copy's token and the licence it copies (None: refused, nothing written),
    or the refusal."""

    token: str | None
    licence: ELicence | None
    error: DomainError | None = None


def keeps_library(scope: NodeScope, field: str) -> None:
    """DIVISION_NOT_OWNED unless this node holds the city, which keeps the library."""
    if not scope.holds(Level.CITY):
        raise DomainError(ErrorCode.DIVISION_NOT_OWNED, field=[field], detail="library")


async def copy_licence(
    sessions: async_sessionmaker[AsyncSession],
    scope: NodeScope,
    ask: CopyRequest,
    *,
    signer: OrgSigner | None,
    now: dt.datetime,
) -> CopyOutcome:
    """A copy of a licence in the library this node keeps, in its own transaction."""
    keeps_library(scope, "id")
    if now.tzinfo is None or ask.until.tzinfo is None:
        raise DomainError(ErrorCode.BAD_USER_INPUT, field=["now"], detail="no offset")
    if signer is None:
        raise DomainError(ErrorCode.DIVISION_NOT_OWNED, field=["id"], detail="signs none")
    key = parse_licence_id(ask.identifier, field=("input", "id")).value
    purpose = ask.purpose.strip()
    if not purpose or len(purpose) > 200:
        return CopyOutcome(
            None, None, DomainError(LicenceErrorCode.PURPOSE_REQUIRED, field=["input", "purpose"])
        )
    if ask.until <= now:
        refused = DomainError(LicenceErrorCode.INVALID_COPY_VALIDITY, field=["input", "validDays"])
        return CopyOutcome(None, None, refused)
    try:
        async with sessions.begin() as session:
            row = await session.get(ELicence, key)
            if row is None:
                raise DomainError(LicenceErrorCode.LICENCE_NOT_FOUND, field=["input", "id"])
            orgs = await library_orgs(session)
            if not orgs:
                raise DomainError(ErrorCode.DIVISION_NOT_OWNED, field=["id"], detail="no city org")
            asked = CopyRequest(key, purpose, ask.used_by, ask.until)
            token = await sign_copy(
                session, row, asked, library_org=orgs[0], signer=signer, now=now
            )
    except DomainError as e:
        if e.code is ErrorCode.DIVISION_NOT_OWNED:
            raise
        return CopyOutcome(None, None, e)
    return CopyOutcome(token, row, None)
