"""Resolvers of the village proxy service (代办): residents' authorizations of a village
station's agents, an agent's submission for a resident, and the station's ledger
(台账). Thin: parse, check the policy table, call ``levels/proxy`` and, for a
submission, ``levels/node/proxy.py`` (at the village's node when it has an address),
wrap the result. Authorizations live in the village store; so do the cases a station
receives (numbered with the village's code) until they are referred up."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.enums import AccountKind, Channel
from auth.errors import AuthErrorCode
from auth.idnumbers import id_number_hash, parse_id_number
from auth.models import Account
from auth.policy import (
    Action,
    Resource,
    Target,
    allows,
    jurisdiction_prefix,
    refusal,
    require,
    served_village,
)
from auth.viewer import Viewer
from levels.cases.enums import ApplicantKind, CaseStatus
from levels.cases.errors import CaseErrorCode
from levels.cases.intake import Applicant, Receiver, Submission
from levels.cases.models import Case
from levels.cases.service import Actor, china_date
from levels.common.codes import (
    DivisionCode,
    Field,
    ImplementationCode,
    field_path,
    parse_division,
    parse_implementation_code,
    validate_basic_code,
)
from levels.common.dates import kept_day
from levels.common.enums import LEVELS, Level, MatterStatus, VillageServiceMode
from levels.common.errors import DomainError, ErrorCode
from levels.common.routes import Route, compute_routes
from levels.node import proxy as proxy_flow
from levels.node.proxy import ProxyReceipt, StationService
from levels.proxy import service as proxy_service
from levels.proxy.errors import ProxyErrorCode
from levels.proxy.models import AuthorizationMethod, ProxyAuthorization
from levels.proxy.service import AuthorizationDraft, AuthorizationQuery, Resident
from resolvers import case_updates, node_proxy_calls, village
from resolvers.cases import actor_of, display_name, material_drafts
from resolvers.fanout import NodeUnavailable, fan_out, node_ids
from resolvers.languages import applicant_language
from resolvers.loaders import issuer_status
from resolvers.pagination import decode_cursor, merge_page, page_size
from resolvers.partial import report_unavailable
from resolvers.registry import Node
from resolvers.submission import item_read, receive
from schema.cases import CasePayload, CaseType
from schema.info import Info
from schema.payloads import UserError, user_errors
from schema.proxy import (
    ProxyAuthorizationFilter,
    ProxyAuthorizationPayload,
    ProxyAuthorizationType,
    VillageLedgerEntry,
    authorization_target,
    ledger_target,
)
from schema.relay import Connection, connection


def _gate(viewer: Viewer, action: Action, target: Target) -> None:
    """Refuse outright (a top-level error) a viewer whom no grant of ``action`` fits
    by kind and post; one who could act elsewhere gets a payload error later."""
    if not allows(viewer, action, target) and refusal(viewer, action, target) == "ROLE":
        code = AuthErrorCode.FORBIDDEN if viewer.authenticated else AuthErrorCode.UNAUTHENTICATED
        raise DomainError(code)


def _agent_village(viewer: Viewer) -> DivisionCode:
    """The village whose station the agent serves (``served_village``)."""
    village = served_village(viewer)
    if village is None:
        raise DomainError(ProxyErrorCode.NOT_AN_AGENT)
    return DivisionCode(village, Level.VILLAGE)


def _as_resident(account: Account | None, field: Field) -> Resident:
    if account is None or account.kind is not AccountKind.PERSON or account.disabled:
        raise DomainError(ProxyErrorCode.RESIDENT_NOT_FOUND, field=field_path(field))
    return Resident(account.id, account.display_name, account.id_number_masked or "")


async def _account_by_id_number(info: Info, value: str, field: Field) -> Account | None:
    ctx = info.context
    number = parse_id_number(value, field=field)
    async with ctx.identity.store.sessions() as session:
        found: Account | None = await session.scalar(
            select(Account).where(
                Account.id_number_hash == id_number_hash(ctx.identity.secret, number)
            )
        )
    return found


async def _resident_by_id_number(info: Info, value: str, field: Field) -> Resident:
    return _as_resident(await _account_by_id_number(info, value, field), field)


async def _signed_in_resident(info: Info) -> Resident:
    async with info.context.identity.store.sessions() as session:
        account = await session.get(Account, info.context.viewer.subject)
    return _as_resident(account, ("input",))


async def _route(info: Info, village: DivisionCode, basic_code: str, field: Field) -> Route:
    """The route of ``basic_code`` for residents of ``village``; refused unless the
    village station takes part in it (it offers some village service mode)."""
    loaders = info.context.loaders
    matter = await loaders.matter_by_code.load(basic_code)
    if matter is None:
        raise DomainError(ErrorCode.MATTER_NOT_FOUND, field=field_path(field))
    items = await loaders.implementations_by_basic_code.load(basic_code)
    missing = loaders.implementations_by_basic_code.failed(basic_code)
    if missing:  # a route of part of the items would be wrong: none without them all
        raise missing[0]
    published = [i for i in items if i.status is MatterStatus.PUBLISHED]
    ids = sorted({i.delegation_id for i in published if i.delegation_id})
    views = [v for v in await loaders.delegation_by_id.load_many(ids) if v is not None]
    routes = compute_routes(village, published, views, now=info.context.clock.now())
    route = routes[0] if routes else None
    if matter.status is not MatterStatus.PUBLISHED or route is None or not route.village_modes:
        raise DomainError(ProxyErrorCode.MATTER_NOT_PROXIABLE, field=field_path(field))
    return route


def _offered(route: Route, mode: VillageServiceMode, field: Field) -> None:
    proxy_flow.offered(route.village_modes, mode, field)


Write = Callable[[AsyncSession, Actor, dt.datetime], Awaitable[ProxyAuthorization]]


async def _write(info: Info, change: Write, village: str | None = None) -> ProxyAuthorization:
    """One change in the transaction of the node owning the village, with its audit
    event; without a village (a revocation by id), at each node holding villages in
    turn until one holds the authorization."""
    nodes = info.context.nodes
    candidates = [nodes.owner(village)] if village else nodes.holding(Level.VILLAGE)
    for i, node in enumerate(candidates):
        try:
            async with node.sessions.begin() as session:
                return await change(session, actor_of(info), info.context.clock.now())
        except DomainError as e:
            if e.code is not ProxyErrorCode.AUTHORIZATION_NOT_FOUND or i == len(candidates) - 1:
                raise
    raise DomainError(ProxyErrorCode.AUTHORIZATION_NOT_FOUND, field=["input", "id"])


def _payload(row: ProxyAuthorization) -> ProxyAuthorizationPayload:
    return ProxyAuthorizationPayload(authorization=ProxyAuthorizationType.from_row(row))


async def _grant(
    info: Info,
    village: DivisionCode,
    resident: Resident,
    input: Any,
    method: AuthorizationMethod,
    agent_id: str = "",
) -> ProxyAuthorization:
    """Write an authorization for a matter the village's station handles in its mode."""
    basic_code = validate_basic_code(input.basic_code.strip(), field=("input", "basicCode"))
    route = await _route(info, village, basic_code, ("input", "basicCode"))
    _offered(route, input.mode, ("input", "mode"))
    draft = AuthorizationDraft(
        village_code=village.code,
        resident=resident,
        basic_code=basic_code,
        scope=input.scope,
        mode=input.mode,
        method=method,
        expires_on=input.expires_on,
        phone=input.phone,
        agent_id=agent_id,
    )

    def change(session: AsyncSession, actor: Actor, now: dt.datetime) -> Awaitable[Any]:
        return proxy_service.grant(draft, session=session, actor=actor, now=now)

    return await _write(info, change, village.code)


async def record_authorization(info: Info, input: Any) -> ProxyAuthorizationPayload:
    """An agent records a resident's written or in-person authorization of the station
    of their village."""
    viewer = info.context.viewer
    _gate(viewer, Action.RECORD_PROXY, Target(Resource.PROXY_AUTHORIZATION))
    try:
        village = _agent_village(viewer)
        where = ("input", "residentIdNumber")
        resident = await _resident_by_id_number(info, input.resident_id_number, where)
        target = Target(Resource.PROXY_AUTHORIZATION, division_code=village.code, owner=resident.id)
        if not allows(viewer, Action.RECORD_PROXY, target):
            raise DomainError(ProxyErrorCode.OUTSIDE_YOUR_VILLAGE)
        row = await _grant(info, village, resident, input, input.method, viewer.subject)
    except DomainError as e:
        return ProxyAuthorizationPayload(errors=_errors(info, e))
    return _payload(row)


async def authorize(info: Info, input: Any) -> ProxyAuthorizationPayload:
    """A resident, in the app, authorizes the agents of a village station."""
    ctx = info.context
    viewer = ctx.viewer
    _gate(
        viewer, Action.AUTHORIZE_PROXY, Target(Resource.PROXY_AUTHORIZATION, owner=viewer.subject)
    )
    try:
        village = parse_division(input.village_code, field=("input", "villageCode"))
        station = await ctx.loaders.service_org_by_division.load(village.code)
        if village.level is not Level.VILLAGE or station is None:
            raise DomainError(ProxyErrorCode.VILLAGE_NOT_FOUND, field=["input", "villageCode"])
        resident = await _signed_in_resident(info)
        target = Target(Resource.PROXY_AUTHORIZATION, division_code=village.code, owner=resident.id)
        require(viewer, Action.AUTHORIZE_PROXY, target)
        row = await _grant(info, village, resident, input, AuthorizationMethod.MOBILE)
    except DomainError as e:
        return ProxyAuthorizationPayload(errors=_errors(info, e))
    return _payload(row)


async def revoke(info: Info, input: Any) -> ProxyAuthorizationPayload:
    """The resident who gave it (or the agent who recorded it) revokes an
    authorization; one the viewer may not read does not exist for them."""
    ctx = info.context
    viewer = ctx.viewer
    probe = Target(Resource.PROXY_AUTHORIZATION, owner=viewer.subject, submitter=viewer.subject)
    _gate(viewer, Action.REVOKE_PROXY, probe)

    async def change(session: AsyncSession, actor: Actor, now: dt.datetime) -> ProxyAuthorization:
        row = await proxy_service.find(str(input.id), session=session, lock=True)
        if row is None or not allows(viewer, Action.READ, authorization_target(row)):
            raise DomainError(ProxyErrorCode.AUTHORIZATION_NOT_FOUND, field=["input", "id"])
        if not allows(viewer, Action.REVOKE_PROXY, authorization_target(row)):
            raise DomainError(ProxyErrorCode.NOT_REVOCABLE_BY_YOU, field=["input", "id"])
        return await proxy_service.revoke(row, session=session, actor=actor, now=now)

    try:
        row = await _write(info, change)
    except DomainError as e:
        return ProxyAuthorizationPayload(errors=_errors(info, e))
    return _payload(row)


def _errors(info: Info, error: DomainError) -> list[UserError]:
    return user_errors(error, info.context.locale)


def _visible(
    viewer: Viewer, f: ProxyAuthorizationFilter, today: dt.date
) -> AuthorizationQuery | None:
    """The authorizations the viewer may read (the policy table's READ grants, as a
    query): a resident's own, an agent's village's, staff and auditors' jurisdiction."""
    village = (
        parse_division(f.village_code, field=("filter", "villageCode"))
        if (f.village_code)
        else None
    )
    q = AuthorizationQuery(
        today,
        village_code=village.code if village else None,
        basic_code=f.basic_code.strip() if f.basic_code else None,
        status=f.status,
    )
    if viewer.kind is AccountKind.PERSON:
        return replace(q, resident_id=viewer.subject)
    probe = Target(Resource.PROXY_AUTHORIZATION, division_code=viewer.jurisdiction)
    if viewer.kind is None or not allows(viewer, Action.READ, probe):
        return None
    return replace(q, village_prefix=jurisdiction_prefix(viewer) or "")


def _granted_key(row: ProxyAuthorization) -> tuple[str, str]:
    return (row.granted_at.astimezone(dt.UTC).isoformat(), row.id)


async def authorizations(
    info: Info, filter: ProxyAuthorizationFilter | None, first: int | None, after: str | None
) -> Connection[ProxyAuthorizationType]:
    """Authorizations the viewer may read, in the order they were given."""
    ctx = info.context
    settings = ctx.settings
    size = page_size(first, default=settings.default_page_size, maximum=settings.max_page_size)
    start = decode_cursor(after, allowed=node_ids(ctx.sessions, [Level.VILLAGE]))
    f = filter or ProxyAuthorizationFilter()
    query = _visible(ctx.viewer, f, china_date(ctx.clock.now()))
    if query is None:
        nothing = merge_page({}, _granted_key, first=size, start=start)
        return connection(nothing, ProxyAuthorizationType.from_row)
    if f.resident_id_number is not None:
        field = ("filter", "residentIdNumber")
        account = await _account_by_id_number(info, f.resident_id_number, field)
        query = replace(query, of_resident=account.id if account else "")

    def position_of(node: Node) -> tuple[dt.datetime, str] | None:
        position = start.get(node.id)
        return (dt.datetime.fromisoformat(position[0]), position[1]) if position else None

    async def fetch(node: Node, session: AsyncSession) -> Sequence[ProxyAuthorization]:
        return await proxy_service.list_authorizations(
            query, session=session, after=position_of(node), limit=size + 1
        )

    result = await fan_out(
        ctx.sessions, [Level.VILLAGE], fetch, timeout=settings.node_timeout_seconds
    )
    report_unavailable(info, result.unavailable)
    page = merge_page(dict(result.values), _granted_key, first=size, start=start)
    return connection(page, ProxyAuthorizationType.from_row)


async def village_ledger(
    info: Info,
    division_code: str,
    received_from: dt.date | None,
    received_to: dt.date | None,
    first: int | None,
    after: str | None,
) -> Connection[VillageLedgerEntry]:
    """台账: the cases the village station received, by number, each with the status it
    has where it is now — the village's own row, or the row of the store it was
    referred up to (followed level by level)."""
    ctx = info.context
    settings = ctx.settings
    village = parse_division(division_code)
    if village.level is not Level.VILLAGE:
        raise DomainError(ProxyErrorCode.VILLAGE_NOT_FOUND, field=["divisionCode"])
    require(ctx.viewer, Action.READ, ledger_target(village.code))
    kept_day(received_from, ("from",))
    kept_day(received_to, ("to",))
    size = page_size(first, default=settings.default_page_size, maximum=settings.max_page_size)
    start = decode_cursor(after, allowed=[ctx.nodes.owner(village).id])
    if await ctx.loaders.division_by_code.load(village.code) is None:
        raise DomainError(ErrorCode.DIVISION_NOT_FOUND, field=["divisionCode"])

    async def fetch(node: Node, session: AsyncSession) -> Sequence[Case]:
        return await proxy_service.ledger_page(
            village.code,
            session=session,
            received_from=received_from,
            received_to=received_to,
            after=start.get(node.id),
            limit=size + 1,
        )

    result = await fan_out(
        ctx.sessions, [ctx.nodes.owner(village)], fetch, timeout=settings.node_timeout_seconds
    )
    report_unavailable(info, result.unavailable)
    page = merge_page(dict(result.values), lambda r: r.number, first=size, start=start)
    held = await _where_now(info, page.items)
    return connection(page, lambda r: VillageLedgerEntry.of(r, held[r.number]))


async def _where_now(info: Info, rows: Sequence[Case]) -> dict[str, Case]:
    """Each case's row in the store that holds it now. A referred case's rows are
    asked for at every level from the one it went to up to the city, all at once, so
    a page costs one statement per level however far its cases travelled; a case on
    its way (not yet applied up there) or at a node that is down shows as REFERRED."""
    loader = info.context.loaders.case_by_number
    keys = [
        (level, r.number)
        for r in rows
        if r.status is CaseStatus.REFERRED and r.referred_to_level is not None
        for level in LEVELS
        if level.depth <= r.referred_to_level.depth
    ]
    found = await asyncio.gather(*(loader.load(k) for k in keys), return_exceptions=True)
    rows_at: dict[tuple[Level, str], Case] = {}
    down: dict[str, NodeUnavailable] = {}
    for key, value in zip(keys, found, strict=True):
        if isinstance(value, NodeUnavailable):
            down[value.node_id] = value
        elif isinstance(value, BaseException):
            raise value
        elif value is not None:
            rows_at[key] = value
    report_unavailable(info, down.values())
    held: dict[str, Case] = {}
    for r in rows:
        now = r
        for _ in LEVELS:
            upper = now.referred_to_level
            if now.status is not CaseStatus.REFERRED or upper is None:
                break
            nxt = rows_at.get((upper, r.number))
            if nxt is None:
                break
            now = nxt
        held[r.number] = now
    return held


@dataclass(frozen=True)
class _Plan:
    """What an agent's submission was checked against before its transaction."""

    village: DivisionCode
    station_code: str
    implementation: ImplementationCode
    route: Route
    applicant_id: str | None  # the resident the submission names, if it names one
    matter_name: str
    legal_limit_days: int


async def _plan(info: Info, input: Any) -> _Plan:
    ctx = info.context
    viewer = ctx.viewer
    if viewer.kind is not AccountKind.AGENT:
        raise DomainError(ProxyErrorCode.NOT_AN_AGENT, field=["input", "proxyAuthorizationId"])
    village = _agent_village(viewer)
    if not input.proxy_authorization_id:
        raise DomainError(
            ProxyErrorCode.AUTHORIZATION_REQUIRED, field=["input", "proxyAuthorizationId"]
        )
    if input.channel is not Channel.PROXY:
        raise DomainError(ProxyErrorCode.CHANNEL_NOT_PROXY, field=["input", "channel"])
    if input.on_behalf_of is not None:
        raise DomainError(CaseErrorCode.NOT_A_REPRESENTATIVE, field=["input", "onBehalfOf"])
    where = ("input", "implementationCode")
    code = parse_implementation_code(input.implementation_code, field=where)
    item = await ctx.loaders.implementation_by_code.load(code.code)
    matter = await ctx.loaders.matter_by_code.load(code.basic_code)
    if item is None or matter is None:
        raise DomainError(CaseErrorCode.IMPLEMENTATION_NOT_IN_FORCE, field=list(where))
    if item.level is Level.VILLAGE and item.division_code != village.code:
        raise DomainError(ProxyErrorCode.OUTSIDE_YOUR_VILLAGE, field=list(where))
    applicant_id = None
    if input.applicant_id_number is not None:
        field = ("input", "applicantIdNumber")
        applicant_id = (await _resident_by_id_number(info, input.applicant_id_number, field)).id
    station = await ctx.loaders.service_org_by_division.load(village.code)
    if station is None:
        raise DomainError(ProxyErrorCode.VILLAGE_NOT_FOUND)
    route = await _route(info, village, code.basic_code, where)
    if route.decider.code != code.code:
        # not the item that decides the matter for this village's residents
        raise DomainError(ProxyErrorCode.MATTER_NOT_PROXIABLE, field=list(where))
    return _Plan(
        village, station.code, code, route, applicant_id, matter.name, matter.legal_time_limit_days
    )


def _receipt(info: Info, input: Any, plan: _Plan, clerk: str) -> tuple[Submission, ProxyReceipt]:
    """What the hub decided of an agent's submission (its applicant, phone and
    authorization are the authorization's, filled in the transaction) and what it is
    checked against there (``levels/node/proxy.py``)."""
    ctx = info.context
    own = plan.implementation.level is Level.VILLAGE
    submission = Submission(
        implementation_code=plan.implementation.code,
        matter_name=plan.matter_name,
        legal_limit_days=plan.legal_limit_days,
        applicant=Applicant(ApplicantKind.PERSON, "", "", ""),
        channel=Channel.PROXY.value,
        materials=material_drafts(input.materials),
        tolerance_deadline=input.tolerance_deadline,
        window_id=None,
        received_by=None if own else Receiver(Level.VILLAGE, plan.station_code, plan.village.code),
        clerk_name=clerk,
        referral_days=ctx.settings.referral_limit_days,
    )
    given = input.village_service
    service = StationService(
        mode=given.mode if given is not None else None,
        accompanied_by=given.accompanied_by if given is not None else None,
        fee_yuan=given.fee_yuan if given is not None else None,
        age=village.age_of(info, input.applicant_id_number),
    )
    receipt = ProxyReceipt(
        authorization_id=str(input.proxy_authorization_id),
        village_code=plan.village.code,
        basic_code=plan.implementation.basic_code,
        resident_id=plan.applicant_id,
        modes=tuple(plan.route.village_modes),
        service=service,
        free_age=ctx.settings.proxy_free_age,
    )
    return submission, receipt


async def submit_for_resident(info: Info, input: Any) -> CasePayload:
    """代办: an agent hands in an application for a resident who authorized their
    village's station. The case is received at the village (numbered with its code,
    kept in the village store, channel PROXY) for the item that decides the matter for
    the village's residents — the station's own immediate item, completed on the spot,
    or an upper level's, referred up; the guide comes from the implementing store.
    Joint applications and windows are for the deciding org's counter. The
    authorization is locked and the station's service recorded in the case's
    transaction (``levels/node/proxy.py``): the village's node's own, through its API,
    when it has an address; else one the hub opens on its store, with the policy
    table's checks on the authorization."""
    ctx = info.context
    viewer = ctx.viewer
    try:
        plan = await _plan(info, input)
        if input.joint_implementation_codes or input.window_id is not None:
            raise DomainError(
                CaseErrorCode.INVALID_TRANSITION, field=["input", "implementationCode"]
            )
        here = ctx.nodes.owner(plan.village)
        implementing = ctx.nodes.owner_or_none(
            plan.village.code, plan.implementation.level
        ) or ctx.nodes.of_org(plan.implementation.org_code, plan.implementation.level)
        clerk = await display_name(info)  # 收件人 on the station's 受理告知书
        submission, receipt = _receipt(info, input, plan, clerk)
        language = applicant_language(input)
        if here.client is not None:
            # the policy table lets an agent read their village's authorizations (the
            # node refuses another village's as not found) and submit received there
            probe = Target(
                Resource.CASE,
                division_code=plan.village.code,
                org_code=plan.station_code,
                submitter=viewer.subject,
            )
            if not allows(viewer, Action.SUBMIT_CASE, probe):
                raise DomainError(ProxyErrorCode.OUTSIDE_YOUR_VILLAGE)
            code = submission.implementation_code
            read = None if implementing.id == here.id else await item_read(info, code)
            return await node_proxy_calls.receive_at_node(
                info, here, submission, receipt, language=language, item=read
            )

        def target(granted: ProxyAuthorization) -> Target:
            return Target(
                Resource.CASE,
                division_code=plan.village.code,
                owner=granted.resident_id,
                org_code=plan.station_code,
                submitter=viewer.subject,
            )

        def write(
            session: AsyncSession, catalogue: AsyncSession | None, library: AsyncSession
        ) -> Awaitable[Case]:
            return proxy_flow.receive_in(
                session,
                receipt,
                submission,
                actor=actor_of(info),
                now=ctx.clock.now(),
                catalogue=catalogue,
                library=library,
                signer=ctx.licensing.signer,
                language=language,
                issuer_status=issuer_status(ctx.loaders),
                readable=lambda g: allows(viewer, Action.READ, authorization_target(g)),
                may_submit=lambda g: allows(viewer, Action.SUBMIT_CASE, target(g)),
            )

        case = await receive(
            here,
            None if implementing.id == here.id else implementing,
            ctx.nodes.single(Level.CITY),
            write,
        )
    except DomainError as e:
        return CasePayload(errors=user_errors(e, ctx.locale))
    await case_updates.publish_case_updated(info.context.broker, case.number)
    return CasePayload(case=CaseType.from_row(case))
