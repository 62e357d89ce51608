"""Resolvers of e-licences: thin — parse, check the policy table, call
``levels/licences``, wrap the result.

Reads of the library (wallet, lists, one licence) go to the city store; verification
asks the issuer's store for the current status; lifecycle changes run in one
transaction of the issuer's store (the master), which also queues the library's copy —
asked of the issuing node through its API when the hub reaches it so
(``resolvers/licence_api.py``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jwt
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.enums import AccountKind
from auth.policy import Action, Resource, Target, allows, jurisdiction_prefix, require
from levels.common.codes import level_of_division, parse_division, validate_uscc
from levels.common.dates import kept_day
from levels.common.enums import Level
from levels.common.errors import DomainError
from levels.common.ranges import within
from levels.licences import service as licence_service
from levels.licences.enums import LicenceStatus, LicenceUseKind, VerificationOutcome
from levels.licences.enums import VerificationReason as Why
from levels.licences.errors import LicenceErrorCode
from levels.licences.expiry import change_after_expiry, status_on
from levels.licences.identifiers import parse_licence_id
from levels.licences.models import ELicence
from levels.licences.tokens import COPY_TYP, Verdict, copy_claims, open_token, sign, token_kid
from resolvers import licence_api, remote_lists
from resolvers.cases import actor_of, licence_fields
from resolvers.fanout import NodeUnavailable, call_api, call_node
from resolvers.pagination import decode_cursor, merge_page, page_size
from resolvers.partial import report_unavailable
from resolvers.registry import Node
from schema.info import Info
from schema.licences import (
    CopyAnnotation,
    ELicenceType,
    LicenceCopy,
    LicenceCopyPayload,
    LicenceFilter,
    LicencePayload,
    LicenceTypeType,
    LicenceVerification,
    LicenceView,
    licence_target,
)
from schema.payloads import user_errors
from schema.relay import Connection, connection

APPLICANT_KINDS = (AccountKind.PERSON, AccountKind.ENTERPRISE)


def _key(row: ELicence) -> tuple[str, str]:
    return (row.issued_at.astimezone(dt.UTC).isoformat(), row.id)


def _scoped(info: Info, f: LicenceFilter) -> Select[Any] | None:
    """The library rows the viewer may list (None: none at all): the holder's own
    (the wallet), or what was issued in the jurisdiction of staff and auditors."""
    viewer = info.context.viewer
    if not viewer.authenticated:
        require(viewer, Action.READ, Target(Resource.LICENCE))  # UNAUTHENTICATED
    query = select(ELicence)
    if viewer.kind in APPLICANT_KINDS:
        query = query.where(ELicence.holder_id == viewer.subject)
    else:
        prefix = jurisdiction_prefix(viewer)
        if prefix is None or not allows(
            viewer, Action.READ, Target(Resource.LICENCE, division_code=prefix.ljust(12, "0"))
        ):
            return None
        query = query.where(within(ELicence.issuer_division_code, prefix))
    if f.division_code is not None:
        division = parse_division(f.division_code, field=("filter", "divisionCode"))
        query = query.where(within(ELicence.issuer_division_code, division.prefix))
    if f.type_code is not None:
        query = query.where(ELicence.type_code == f.type_code.strip().upper())
    if f.status is not None:
        query = query.where(ELicence.status == f.status)
    if f.issuer_org_code is not None:
        code = validate_uscc(f.issuer_org_code.strip(), field=("filter", "issuerOrgCode"))
        query = query.where(ELicence.issuer_org_code == code)
    if f.case_number is not None:
        query = query.where(ELicence.source_case_number == f.case_number.strip())
    return query


async def licences(
    info: Info, filter: LicenceFilter | None, first: int | None, after: str | None
) -> Connection[ELicenceType]:
    """The library's licences the viewer may see, in the order they were issued."""
    ctx = info.context
    settings = ctx.settings
    size = page_size(first, default=settings.default_page_size, maximum=settings.max_page_size)
    start = decode_cursor(after, allowed=[Level.CITY])
    query = _scoped(info, filter or LicenceFilter())
    if query is None:
        return connection(merge_page({}, _key, first=size, start=start), ELicenceType.from_row)
    position = start.get(Level.CITY.value)
    if position is not None:
        at = dt.datetime.fromisoformat(position[0])
        query = query.where(
            (ELicence.issued_at > at) | ((ELicence.issued_at == at) & (ELicence.id > position[1]))
        )
    query = query.order_by(ELicence.issued_at, ELicence.id).limit(size + 1)

    async def fetch(_node: Node, session: AsyncSession) -> Sequence[ELicence]:
        return (await session.scalars(query)).all()

    rows: dict[Level, Sequence[ELicence]] = {}
    try:
        rows[Level.CITY] = await call_node(
            ctx.sessions, Level.CITY, fetch, settings.node_timeout_seconds
        )
    except NodeUnavailable as e:
        report_unavailable(info, [e])
    page = merge_page(rows, _key, first=size, start=start)
    return connection(page, ELicenceType.from_row)


async def licence(info: Info, identifier: str) -> ELicenceType | None:
    """One library licence by identifier; null when the viewer may not read it."""
    parsed = parse_licence_id(identifier, field="id")
    row = await info.context.loaders.licence_by_id.load(parsed.value)
    if row is None or not allows(info.context.viewer, Action.READ, licence_target(row)):
        return None
    return ELicenceType.from_row(row)


async def licence_types(info: Info) -> list[LicenceTypeType]:
    async def fetch(_node: Node, session: AsyncSession) -> list[Any]:
        return list(await session.scalars(select(licence_service.LicenceType)))

    ctx = info.context
    city = ctx.sessions.nodes[Level.CITY]
    timeout = ctx.settings.node_timeout_seconds
    if city.client is not None:
        rows = await call_api(ctx.sessions, city, remote_lists.licence_types, timeout)
    else:
        rows = await call_node(ctx.sessions, city, fetch, timeout)
    return [LicenceTypeType.from_row(r) for r in sorted(rows, key=lambda r: r.code)]


# -- verification ---------------------------------------------------------------------


def _date(claims: dict[str, Any], key: str, *, last: bool = False) -> dt.date | None:
    value = claims.get(key)
    if not isinstance(value, int):
        return None
    moment = dt.datetime.fromtimestamp(value, dt.UTC).astimezone(licence_service.CHINA)
    return (moment - dt.timedelta(days=1)).date() if last else moment.date()


def claims_view(claims: dict[str, Any], status: LicenceStatus | None) -> LicenceView:
    kind = claims.get("type") or {}
    holder = claims.get("holder") or {}
    return LicenceView(
        identifier=str(claims.get("jti", "")),
        type_code=str(kind.get("code", "")),
        type_name=str(kind.get("name", "")),
        version=int(claims.get("ver", 0) or 0),
        issuer_org_code=str(claims.get("iss", "")),
        issuer_name=str(claims.get("iss_name", "")),
        holder_name=str(holder.get("name", "")),
        holder_id_masked=str(holder.get("idMasked", "")),
        valid_from=_date(claims, "nbf"),
        valid_until=_date(claims, "exp", last=True),
        status=status,
        data=dict(claims.get("data") or {}),
    )


STATUS_OUTCOME = {
    LicenceStatus.REVOKED: (VerificationOutcome.REVOKED, Why.REVOKED),
    LicenceStatus.SUSPENDED: (VerificationOutcome.SUSPENDED, Why.SUSPENDED),
    LicenceStatus.EXPIRED: (VerificationOutcome.EXPIRED, Why.EXPIRED),
}


async def verify(info: Info, token: str) -> LicenceVerification:
    """验证: signature by a known key of the issuer, validity period, then the status
    the issuer's store holds now (a revocation counts at once)."""
    ctx = info.context
    now = ctx.clock.now()
    licensing = ctx.licensing
    kid = token_kid(token) if isinstance(token, str) and len(token) <= 16_384 else None
    if kid is not None:
        await licensing.directory.lookup(kid)
    library = frozenset(await licensing.library_orgs())
    verdict = open_token(token, licensing.directory.lookup_loaded, now, library_orgs=library)
    row: ELicence | None = None
    claims = verdict.licence
    if claims is not None:
        level = level_of_division(claims["iss_div"])
        try:
            if level is None:
                raise LookupError(claims["iss_div"])
            issuer = info.context.nodes.owner_at(claims["iss_div"], level)
            row = await _master(info, issuer, claims["jti"])
        except NodeUnavailable:
            if verdict.outcome is VerificationOutcome.VALID:
                verdict = Verdict(
                    VerificationOutcome.UNKNOWN,
                    Why.ISSUER_UNAVAILABLE,
                    verdict.claims,
                    verdict.copy,
                )
        except LookupError:
            row = None
        if verdict.outcome is VerificationOutcome.VALID:
            if row is None:
                verdict = Verdict(VerificationOutcome.INVALID, Why.NOT_IN_LIBRARY)
            elif row.status in STATUS_OUTCOME:
                outcome, why = STATUS_OUTCOME[row.status]
                verdict = Verdict(outcome, why, verdict.claims, verdict.copy)
    copy = verdict.copy
    return LicenceVerification(
        valid=verdict.outcome is VerificationOutcome.VALID,
        outcome=verdict.outcome,
        status=row.status if row is not None else None,
        reason=verdict.reason.value if verdict.reason else None,
        claims=claims_view(verdict.licence, row.status if row else None)
        if verdict.licence is not None
        else None,
        copy=CopyAnnotation(
            purpose=str(copy.get("purpose", "")),
            expires_at=dt.datetime.fromtimestamp(int(copy.get("exp", 0)), dt.UTC),
        )
        if copy is not None
        else None,
        checked_at=now,
        row=row,
    )


async def _master(info: Info, node: Node, identifier: str) -> ELicence | None:
    """The licence's master row in ``node``'s store: one issued at a level the node
    holds by a division it owns (the city store's copies of other levels' licences
    answer nothing)."""
    nodes = info.context.nodes

    async def fetch(_node: Node, session: AsyncSession) -> ELicence | None:
        row = await session.get(ELicence, identifier)
        if row is None or row.issuer_level not in node.levels:
            return None
        owner = nodes.owner_or_none(row.issuer_division_code[:12], row.issuer_level)
        return row if owner is None or owner.id == node.id else None

    return await call_node(
        info.context.sessions, node, fetch, info.context.settings.node_timeout_seconds
    )


# -- lifecycle --------------------------------------------------------------------------


async def _issuer_node(info: Info, identifier: str) -> Node:
    """The store that holds the licence's master row: the level the library names,
    else (not yet registered there) the first store that has it as its own."""
    row = await info.context.loaders.licence_by_id.load(identifier)
    nodes = info.context.nodes
    if row is not None:
        return nodes.owner_at(row.issuer_division_code, row.issuer_level)
    for node in nodes:
        if await _master(info, node, identifier) is not None:
            return node
    raise DomainError(LicenceErrorCode.LICENCE_NOT_FOUND, field=["input", "id"])


Change = Callable[[AsyncSession], Awaitable[ELicence]]


def _may_manage(viewer: Any, master: ELicence | None) -> None:
    """A director or admin of the issuing org may change it; one who may read it is
    told it is not theirs, anyone else that there is none."""
    if master is None:
        raise DomainError(LicenceErrorCode.LICENCE_NOT_FOUND, field=["input", "id"])
    target = licence_target(master)
    if not allows(viewer, Action.MANAGE_LICENCE, target):
        if not allows(viewer, Action.READ, target):
            raise DomainError(LicenceErrorCode.LICENCE_NOT_FOUND, field=["input", "id"])
        raise DomainError(LicenceErrorCode.NOT_THE_ISSUER, field=["input", "id"])


async def _manage(
    info: Info,
    identifier: str,
    change: Change,
    *,
    now: dt.datetime,
    action: str,
    given: dict[str, Any],
) -> LicencePayload:
    """One change to a licence in its issuer's transaction, by a director or admin of
    the issuing org. A licence whose validity has ended is first marked EXPIRED, as the
    timer worker would have (``levels/licences/expiry``); a change that this makes
    impossible is refused, and the expiry is kept — the payload then carries both."""
    ctx = info.context
    viewer = ctx.viewer
    try:
        parsed = parse_licence_id(identifier, field=("input", "id"))
        key = parsed.value
        at_node = await licence_api.master(info, parsed)
        if at_node is not None:  # the issuing node is asked through its API
            node, remote_master = at_node
            _may_manage(viewer, remote_master)
            row_at, refused = await licence_api.change(info, node, key, action, now, **given)
            if refused is not None:
                licence = None if row_at is None else ELicenceType.from_row(row_at)
                return LicencePayload(licence=licence, errors=user_errors(refused, ctx.locale))
            assert row_at is not None
            return LicencePayload(licence=ELicenceType.from_row(row_at), errors=[])
        node = await _issuer_node(info, key)
        async with node.sessions() as session:
            _may_manage(viewer, await session.get(ELicence, key))
            row, refused = await change_after_expiry(session, key, now, change)
            assert row is not None
            if refused is not None:  # the expiry kept, the change refused
                return LicencePayload(
                    licence=ELicenceType.from_row(row), errors=user_errors(refused, ctx.locale)
                )
    except DomainError as e:
        return LicencePayload(licence=None, errors=user_errors(e, ctx.locale))
    return LicencePayload(licence=ELicenceType.from_row(row), errors=[])


async def change_status(
    info: Info, identifier: str, action: str, reason: str | None
) -> LicencePayload:
    now = info.context.clock.now()
    actor = actor_of(info)

    async def change(session: AsyncSession) -> ELicence:
        return await licence_service.change_status(
            session, identifier.strip().upper(), action, reason, actor, now
        )

    return await _manage(info, identifier, change, now=now, action=action, given={"reason": reason})


async def reissue(info: Info, input: Any) -> LicencePayload:
    ctx = info.context
    now = ctx.clock.now()
    actor = actor_of(info)
    try:
        fields = licence_fields(input.fields)
        kept_day(input.valid_until, ("input", "validUntil"))
    except DomainError as e:
        return LicencePayload(licence=None, errors=user_errors(e, ctx.locale))

    async def change(session: AsyncSession) -> ELicence:
        return await licence_service.reissue(
            session,
            input.id.strip().upper(),
            reason=input.reason,
            fields=fields,
            until=input.valid_until,
            signer=ctx.licensing.signer,
            who=actor,
            now=now,
        )

    given = {"reason": input.reason, "fields": fields, "valid_until": input.valid_until}
    return await _manage(info, input.id, change, now=now, action="REISSUE_LICENCE", given=given)


@dataclass(frozen=True)
class _CopyRequest:
    identifier: str
    purpose: str
    days: int


def _copy_request(info: Info, input: Any, identifier: str) -> _CopyRequest:
    purpose = (input.purpose or "").strip()
    if not purpose or len(purpose) > 200:
        raise DomainError(LicenceErrorCode.PURPOSE_REQUIRED, field=["input", "purpose"])
    if not 1 <= input.valid_days <= info.context.licensing.copy_max_days:
        raise DomainError(LicenceErrorCode.INVALID_COPY_VALIDITY, field=["input", "validDays"])
    return _CopyRequest(identifier, purpose, input.valid_days)


async def request_copy(info: Info, input: Any) -> LicenceCopyPayload:
    """加注件: the holder asks the library for a copy bound to one purpose, expiring
    soon; the library signs it and records the use, in one transaction."""
    ctx = info.context
    viewer = ctx.viewer
    now = ctx.clock.now()
    try:
        identifier = parse_licence_id(input.id, field=("input", "id")).value
        library_orgs = await ctx.licensing.library_orgs()
        async with ctx.nodes.single(Level.CITY).sessions.begin() as session:
            row = await session.get(ELicence, identifier)
            if row is None or not allows(viewer, Action.READ, licence_target(row)):
                raise DomainError(LicenceErrorCode.LICENCE_NOT_FOUND, field=["input", "id"])
            if not allows(viewer, Action.COPY_LICENCE, licence_target(row)):
                raise DomainError(LicenceErrorCode.NOT_THE_HOLDER, field=["input", "id"])
            ask = _copy_request(info, input, identifier)
            # past its validity it is EXPIRED, whether or not the library has heard
            status = status_on(row, licence_service.china_day(now))
            if status is not LicenceStatus.VALID:
                raise DomainError(
                    LicenceErrorCode.LICENCE_NOT_VALID, field=["input", "id"], detail=status.value
                )
            until = now + dt.timedelta(days=ask.days)
            original = jwt.decode(row.token, options={"verify_signature": False})
            signer_org = library_orgs[0]
            kid, key = await ctx.licensing.signer.signing_key(session, signer_org, now)
            token = sign(
                copy_claims(
                    original,
                    library_org=signer_org,
                    purpose=ask.purpose,
                    copy_id=licence_service.copy_id(),
                    now=now,
                    until=until,
                ),
                kid,
                key,
                COPY_TYP,
            )
            await licence_service.record_uses(
                session,
                Level.CITY,
                [
                    licence_service.Use(
                        licence_id=row.id,
                        kind=LicenceUseKind.COPY,
                        purpose=ask.purpose,
                        used_by=viewer.subject or "",
                        used_at=now,
                        expires_at=until,
                    )
                ],
                now,
            )
    except DomainError as e:
        return LicenceCopyPayload(copy=None, errors=user_errors(e, ctx.locale))
    return LicenceCopyPayload(
        copy=LicenceCopy(
            token=token, licence_identifier=row.id, purpose=ask.purpose, expires_at=until
        ),
        errors=[],
    )
