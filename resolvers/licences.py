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
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.enums import AccountKind
from auth.policy import Action, Resource, Target, allows, jurisdiction_prefix, require
from levels.common.codes import level_of_division, parse_division, validate_uscc
from levels.common.dates import kept_day
from levels.common.enums import Level
from levels.common.errors import DomainError
from levels.licences import service as licence_service
from levels.licences.enums import LicenceStatus, VerificationOutcome
from levels.licences.enums import VerificationReason as Why
from levels.licences.errors import LicenceErrorCode
from levels.licences.expiry import change_after_expiry
from levels.licences.identifiers import parse_licence_id
from levels.licences.models import ELicence
from levels.licences.tokens import Verdict, open_token, token_kid
from levels.node.licence_library import CopyRequest, LicenceConditions, library_page, sign_copy
from resolvers import licence_api, node_licence_calls, remote_lists
from resolvers.cases import actor_of, licence_fields
from resolvers.fanout import NodeUnavailable, call_api, call_node
from resolvers.nodeclient import NodeClient
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


def _scoped(info: Info, f: LicenceFilter) -> LicenceConditions | None:
    """The library rows the viewer may list (None: none at all): the holder's own
    (the wallet), or what was issued in the jurisdiction of staff and auditors."""
    viewer = info.context.viewer
    if not viewer.authenticated:
        require(viewer, Action.READ, Target(Resource.LICENCE))  # UNAUTHENTICATED
    holder: dict[str, Any] = {}
    prefixes: list[str] = []
    if viewer.kind in APPLICANT_KINDS:
        holder = {"by_holder": True, "holder_id": viewer.subject}
    else:
        prefix = jurisdiction_prefix(viewer)
        if prefix is None or not allows(
            viewer, Action.READ, Target(Resource.LICENCE, division_code=prefix.ljust(12, "0"))
        ):
            return None
        prefixes.append(prefix)
    if f.division_code is not None:
        prefixes.append(parse_division(f.division_code, field=("filter", "divisionCode")).prefix)
    org = None
    if f.issuer_org_code is not None:
        org = validate_uscc(f.issuer_org_code.strip(), field=("filter", "issuerOrgCode"))
    return LicenceConditions(
        **holder,
        within=tuple(prefixes),
        type_code=None if f.type_code is None else f.type_code.strip().upper(),
        status=f.status,
        issuer_org_code=org,
        case_number=None if f.case_number is None else f.case_number.strip(),
    )


async def licences(
    info: Info, filter: LicenceFilter | None, first: int | None, after: str | None
) -> Connection[ELicenceType]:
    """The library's licences the viewer may see, in the order they were issued: at
    the node holding the city, through its API (``licenceLibrary``) when it has an
    address, else by SQL, the same conditions either way."""
    ctx = info.context
    settings = ctx.settings
    size = page_size(first, default=settings.default_page_size, maximum=settings.max_page_size)
    start = decode_cursor(after, allowed=[Level.CITY])
    conditions = _scoped(info, filter or LicenceFilter())
    if conditions is None:
        return connection(merge_page({}, _key, first=size, start=start), ELicenceType.from_row)
    position = start.get(Level.CITY.value)
    at = None if position is None else (dt.datetime.fromisoformat(position[0]), position[1])

    async def fetch(_node: Node, session: AsyncSession) -> Sequence[ELicence]:
        return await library_page(conditions, session=session, after=at, limit=size + 1)

    async def fetch_api(client: NodeClient) -> Sequence[ELicence]:
        # the node's pages in turn until it has ``size + 1`` (its page size is bounded)
        found: list[ELicence] = []
        cursor = None if position is None else (position[0], position[1])
        while True:
            page = await node_licence_calls.library_page(
                client,
                conditions,
                after=cursor,
                first=min(size + 1 - len(found), settings.max_page_size),
            )
            found += page.rows
            if len(found) > size or not page.has_next or not page.rows:
                return found
            cursor = _key(page.rows[-1])

    rows: dict[Level, Sequence[ELicence]] = {}
    city = ctx.sessions.nodes[Level.CITY]
    timeout = settings.node_timeout_seconds
    try:
        if city.client is not None:
            rows[Level.CITY] = await call_api(ctx.sessions, city, fetch_api, timeout)
        else:
            rows[Level.CITY] = await call_node(ctx.sessions, city, fetch, timeout)
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
    answer nothing); through the node's API when it has an address."""
    nodes = info.context.nodes
    if node.client is not None:
        return await licence_api.master_at(info, node, identifier)

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

    payload = await _manage(
        info, identifier, change, now=now, action=action, given={"reason": reason}
    )
    info.context.licensing.forget()  # the lists this process keeps may say otherwise now
    return payload


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
    payload = await _manage(info, input.id, change, now=now, action="REISSUE_LICENCE", given=given)
    ctx.licensing.forget()  # the old version revoked: on its issuer's list
    return payload


def _copy_request(info: Info, input: Any, identifier: str, now: dt.datetime) -> CopyRequest:
    purpose = (input.purpose or "").strip()
    if not purpose or len(purpose) > 200:
        raise DomainError(LicenceErrorCode.PURPOSE_REQUIRED, field=["input", "purpose"])
    if not 1 <= input.valid_days <= info.context.licensing.copy_max_days:
        raise DomainError(LicenceErrorCode.INVALID_COPY_VALIDITY, field=["input", "validDays"])
    used_by = info.context.viewer.subject or ""
    return CopyRequest(identifier, purpose, used_by, now + dt.timedelta(days=input.valid_days))


def _may_copy(viewer: Any, row: ELicence | None) -> None:
    """The holder may copy it; one who may read it is told it is not theirs, anyone
    else that there is none."""
    if row is None or not allows(viewer, Action.READ, licence_target(row)):
        raise DomainError(LicenceErrorCode.LICENCE_NOT_FOUND, field=["input", "id"])
    if not allows(viewer, Action.COPY_LICENCE, licence_target(row)):
        raise DomainError(LicenceErrorCode.NOT_THE_HOLDER, field=["input", "id"])


async def request_copy(info: Info, input: Any) -> LicenceCopyPayload:
    """加注件: the holder asks the library for a copy bound to one purpose, expiring
    soon; the library signs it and records the use, in one transaction — at the node
    holding the city, through its API (``copyLicence``) when it has an address."""
    ctx = info.context
    viewer = ctx.viewer
    now = ctx.clock.now()
    city = ctx.sessions.nodes[Level.CITY]
    try:
        identifier = parse_licence_id(input.id, field=("input", "id")).value
        if city.client is not None:
            _may_copy(viewer, await ctx.loaders.licence_by_id.load(identifier))
            ask = _copy_request(info, input, identifier, now)
            token, row = await _copy_at_node(info, city, ask, now)
        else:
            library_orgs = await ctx.licensing.library_orgs()
            async with ctx.nodes.single(Level.CITY).sessions.begin() as session:
                found = await session.get(ELicence, identifier)
                _may_copy(viewer, found)
                assert found is not None
                row = found
                ask = _copy_request(info, input, identifier, now)
                token = await sign_copy(
                    session,
                    row,
                    ask,
                    library_org=library_orgs[0],
                    signer=ctx.licensing.signer,
                    now=now,
                )
    except DomainError as e:
        return LicenceCopyPayload(copy=None, errors=user_errors(e, ctx.locale))
    return LicenceCopyPayload(
        copy=LicenceCopy(
            token=token, licence_identifier=row.id, purpose=ask.purpose, expires_at=ask.until
        ),
        errors=[],
    )


async def _copy_at_node(
    info: Info, city: Node, ask: CopyRequest, now: dt.datetime
) -> tuple[str, ELicence]:
    """The copy made at the library's node; ``NodeUnavailable`` (NODE_UNAVAILABLE
    naming it) when it does not answer, and nothing written."""

    async def call(client: NodeClient) -> tuple[str, ELicence]:
        return await node_licence_calls.copy_licence(
            client,
            ask.identifier,
            purpose=ask.purpose,
            expires_at=ask.until,
            used_by=ask.used_by,
            now=now,
        )

    return await call_api(
        info.context.sessions, city, call, info.context.settings.node_timeout_seconds
    )
