"""Resolvers of cases: thin — parse, check the policy table, call ``levels/cases``,
wrap the result. Each mutation runs in one transaction of the node that holds the
case, and writes the step and its audit event together or not at all."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from stdnum.cn import uscc as stdnum_uscc

from auth.enums import AccountKind
from auth.idnumbers import id_number_hash, parse_id_number
from auth.models import Account
from auth.policy import (
    Action,
    Target,
    allows,
    refusal,
)
from auth.viewer import Viewer
from levels.cases import service as case_service
from levels.cases.enums import CaseStatus
from levels.cases.errors import CaseErrorCode
from levels.cases.machine import Step
from levels.cases.models import Case
from levels.cases.numbers import held_within, parse_case_number
from levels.cases.service import (
    Actor,
    MaterialDraft,
    StepInput,
    china_date,
)
from levels.common.codes import (
    level_of_division,
    parse_division,
)
from levels.common.dates import kept_day
from levels.common.enums import LEVELS, Level
from levels.common.errors import DomainError, ErrorCode
from levels.common.reads import ReadRow, rows, table
from levels.licences.errors import LicenceErrorCode
from levels.licences.service import Issuing
from levels.node import steps as node_steps
from levels.node.case_filter import CaseConditions
from levels.node.steps import StepOutcome
from resolvers import case_updates, remote
from resolvers.case_lists import case_scope, own_lister, remote_lister
from resolvers.fanout import fan_out, guarded, node_ids
from resolvers.globalid import decode_id
from resolvers.nodeclient import NodeClient
from resolvers.pagination import Page, decode_cursor, merge_page, page_size
from resolvers.partial import report_unavailable
from resolvers.read_audit import audit_read
from resolvers.registry import Node, NodeRegistry
from schema.case_inputs import CaseFilter, MaterialInput
from schema.cases import CasePayload, CaseType, case_target
from schema.info import Info
from schema.payloads import user_errors
from schema.relay import Connection, connection

# which post takes which step (the policy table says who holds the post)
STEP_ACTIONS: dict[Step, Action] = {
    Step.COMPLETE: Action.RECEIVE_CASE,
    Step.NOTIFY_SUPPLEMENT: Action.RECEIVE_CASE,
    Step.ACCEPT: Action.RECEIVE_CASE,
    Step.PROPOSE_REJECTION: Action.RECEIVE_CASE,
    Step.REJECT: Action.APPROVE_REJECTION,
    Step.DECLINE_REJECTION: Action.APPROVE_REJECTION,
    Step.CORRECT_ON_SPOT: Action.CORRECT_MATERIALS,
    Step.SUPPLEMENT: Action.SUPPLEMENT_CASE,
    Step.START_REVIEW: Action.REVIEW_CASE,
    Step.START_SPECIAL: Action.REVIEW_CASE,
    Step.FINISH_SPECIAL: Action.REVIEW_CASE,
    Step.DECIDE: Action.DECIDE_CASE,
    Step.DELIVER: Action.DELIVER_CASE,
    Step.ARCHIVE: Action.DELIVER_CASE,
    Step.WITHDRAW: Action.WITHDRAW_CASE,
}


def actor_of(info: Info) -> Actor:
    viewer = info.context.viewer
    request = info.context.request
    return Actor(
        id=viewer.subject,
        kind=viewer.kind.value if viewer.kind else "ANONYMOUS",
        role=",".join(sorted(r.value for r in viewer.roles)) or None,
        channel=viewer.channel.value if viewer.channel else None,
        org_code=viewer.org_code,
        request_id=request.headers.get("x-request-id") or uuid.uuid4().hex,
        department_id=viewer.department_id,
    )


def material_drafts(items: Sequence[MaterialInput]) -> list[MaterialDraft]:
    return [MaterialDraft(m.name.strip(), m.source, m.reference) for m in items]


def _node_of_number(info: Info, number: str) -> Node:
    parsed = parse_case_number(number, field=("input", "number"))
    return info.context.nodes.owner(parsed.division)


async def holder(info: Info, number: str) -> Node:
    """The node that holds the case now: the one its number names, or — once it was
    referred up (转报) and has arrived — the level each REFERRED row points to, in
    turn. While on its way, the REFERRED row where it was is the case."""
    _node_of_number(info, number)  # a number that names no division is refused here
    node, _row = await holder_in(info.context.nodes, number)
    return node


def _referred_up(nodes: NodeRegistry, node: Node, row: Case | None) -> Node | None:
    """The node a case row says the case went up to (转报), when that is another node."""
    if row is None or row.status is not CaseStatus.REFERRED or not row.referred_to_level:
        return None
    # the node owning the division its number names, at the level it was referred to
    division = parse_case_number(row.number).division.code
    upper = nodes.owner_or_none(division, row.referred_to_level)
    return None if upper is None or upper.id == node.id else upper


async def case_row(nodes: NodeRegistry, node: Node, number: str) -> Case | None:
    """A node's row of a case: through its API when the map gives it an address (a
    node that does not answer is ``NodeUnavailable``), else from its store."""
    client = node.client
    if client is None:
        async with node.sessions() as session:
            return await session.get(Case, number)
    found = await guarded(
        nodes.breakers, node, lambda: remote.cases_by_number(client, [number]), client.timeout
    )
    return found[0] if found else None


async def holder_in(nodes: NodeRegistry, number: str) -> tuple[Node, Case | None]:
    """``holder`` over a node registry, with the case row it holds (None: no case)."""
    node = nodes.owner(parse_case_number(number).division)
    row = await case_row(nodes, node, number)
    # each node is read once: the row found up there is the one looked at next
    while (upper := _referred_up(nodes, node, row)) is not None:
        found = await case_row(nodes, upper, number)
        if found is None:
            # on its way: the message has not been applied up there yet
            break
        node, row = upper, found
    return node, row


async def _at_holder(
    info: Info, number: str, *, via_api: bool = False
) -> tuple[Node, AsyncSession | None, Case | None]:
    """The node that holds the case, a session there, and the case row read in it (its
    transaction's first statement): the store the number names, unless the row there
    says the case went up (转报) — then ``holder_in`` follows it. With ``via_api``, a
    holder the hub reaches through its API comes with no session: its row was read
    through the API, and the change goes there too."""
    nodes = info.context.nodes
    node = _node_of_number(info, number)
    if via_api and node.client is not None:
        node, row = await holder_in(nodes, number)
        if node.client is not None:
            return node, None, row
        return await _opened(node, number)
    node, session, row = await _opened(node, number)
    assert session is not None
    if _referred_up(nodes, node, row) is None:
        return node, session, row
    await session.close()
    node, row = await holder_in(nodes, number)
    if via_api and node.client is not None:
        return node, None, row
    return await _opened(node, number)


async def _opened(node: Node, number: str) -> tuple[Node, AsyncSession, Case | None]:
    session = node.sessions()
    try:
        return node, session, await node_steps.read_locked(session, number)
    except BaseException:
        await session.close()
        raise


def refuse(viewer: Viewer, action: Action, target: Target) -> DomainError:
    if refusal(viewer, action, target) == "REACH":
        return DomainError(CaseErrorCode.NOT_AT_THIS_ORG, field=["input", "number"])
    return DomainError(CaseErrorCode.ROLE_NOT_ALLOWED, field=["input", "number"])


CaseChange = Callable[[AsyncSession, Actor], Awaitable[Case]]
# the same change asked of a node the hub reaches through its API, by who acts
NodeAsk = Callable[[NodeClient, Actor], Awaitable[StepOutcome]]
# that ask made from the case's row the hub read: what the change needs of other nodes
# (a referral's deciding item, its town) is read through the hub's loaders before the
# holder is asked, so that a node that does not answer is named as itself
RemoteChange = Callable[[Case], Awaitable[NodeAsk]]


def as_asked(ask: NodeAsk) -> RemoteChange:
    """A change that needs nothing of other nodes: asked as it is."""

    async def made(_row: Case) -> NodeAsk:
        return ask

    return made


def node_ask(
    change: str, number: str, now: dt.datetime, given: StepInput, **arguments: Any
) -> NodeAsk:
    """A change of a case other than a step, asked of its holder
    (``NodeClient.change_case``: ``referCase``, ``completeFile``, …), ``given`` its input
    and ``arguments`` the change's own, by their GraphQL names."""

    async def ask(client: NodeClient, actor: Actor) -> StepOutcome:
        answer = await client.change_case(
            change,
            number,
            actor=node_steps.encode_actor(actor),
            now=now,
            given=node_steps.encode_input(given),
            **arguments,
        )
        return remote.step_outcome(answer)

    return ask


def node_change(
    change: str, number: str, now: dt.datetime, given: StepInput, **arguments: Any
) -> RemoteChange:
    """``node_ask`` for a change that needs nothing of other nodes."""
    return as_asked(node_ask(change, number, now, given, **arguments))


def _may_act(viewer: Viewer, action: Action, row: Case | None) -> Case:
    """The row, when the viewer can read the case (else it does not exist for them)
    and holds the post ``action`` needs."""
    if row is None or not allows(viewer, Action.READ, case_target(row)):
        raise DomainError(CaseErrorCode.CASE_NOT_FOUND, field=["input", "number"])
    if not allows(viewer, action, case_target(row)):
        raise refuse(viewer, action, case_target(row))
    return row


async def act_on_case(
    info: Info,
    number: str,
    action: Action,
    change: CaseChange,
    *,
    now: dt.datetime,
    step: Step | None = None,
    via_api: RemoteChange | None = None,
) -> CasePayload:
    """One change to one case in its node's transaction: the viewer must be able to
    read the case (otherwise it does not exist for them) and hold the post ``action``
    needs; a case someone else moved first is VERSION_CONFLICT. At a node the hub
    reaches through its API, ``via_api`` asks the node for the change (which runs the
    same rules there), made from the row the hub read; without it, the change goes to
    the node's store.

    What the timer worker would have done to the case by ``now`` is done first, in the
    same transaction (``levels/cases/due.py``); a change that this made impossible is
    refused with the deadline's code, and what the timer did is committed all the same
    — the payload then carries both the error and the case as it now stands."""
    ctx = info.context
    viewer = ctx.viewer
    try:
        node, session, row = await _at_holder(info, number, via_api=via_api is not None)
        if session is None:
            assert via_api is not None
            ask = await via_api(_may_act(viewer, action, row))
            return await _act_remotely(info, node, number, ask)
    except DomainError as e:
        return CasePayload(errors=user_errors(e, ctx.locale))

    async def in_store(session: AsyncSession) -> Case:
        return await change(session, actor_of(info))

    async with session:
        # the node's own runner, with the hub's policy check on the row it read
        outcome = await node_steps.run_change(
            session, number, row, in_store, now=now, step=step,
            check=lambda found: _may_act(viewer, action, found),
        )  # fmt: skip
    return await _answer(info, number, outcome)


async def _act_remotely(info: Info, node: Node, number: str, ask: NodeAsk) -> CasePayload:
    """The change asked of the node that holds the case, through its API: its answer
    is the payload, as the change in a store of the hub's would have been (a node that
    does not answer is ``NodeUnavailable``, naming it)."""
    ctx = info.context
    client = node.client
    assert client is not None
    actor = actor_of(info)
    outcome = await guarded(ctx.nodes.breakers, node, lambda: ask(client, actor), client.timeout)
    return await _answer(info, number, outcome)


async def _answer(info: Info, number: str, outcome: StepOutcome) -> CasePayload:
    """The payload of a change's outcome, wherever it ran; the case's subscribers are
    told when it changed (the change done, or a due timer moved it first)."""
    ctx = info.context
    if outcome.case is not None and (outcome.error is None or outcome.moved):
        await case_updates.publish_case_updated(ctx.broker, number)
    case = None if outcome.case is None else CaseType.from_row(outcome.case)
    if outcome.error is not None:
        return CasePayload(case=case, errors=user_errors(outcome.error, ctx.locale))
    return CasePayload(case=case)


def licence_fields(items: Sequence[Any] | None) -> dict[str, str]:
    """The licence fields of an input, by key (a key given twice is refused)."""
    fields: dict[str, str] = {}
    for i, item in enumerate(items or []):
        key = item.key.strip()
        if key in fields:
            raise DomainError(
                LicenceErrorCode.LICENCE_FIELD_INVALID,
                field=["input", "licenceFields", str(i)],
                detail=key,
            )
        fields[key] = item.value
    return fields


async def take_step(
    info: Info,
    number: str,
    step: Step,
    given: StepInput,
    fields: Sequence[Any] | None = None,
) -> CasePayload:
    """One step; an approval (决定 or 当场办结) also issues the e-licences it yields,
    with the licence ``fields`` the director gives, in the same transaction."""
    ctx = info.context
    now = ctx.clock.now()
    try:
        issuing = Issuing(ctx.licensing.signer, licence_fields(fields))
    except DomainError as e:
        return CasePayload(errors=user_errors(e, ctx.locale))

    async def change(session: AsyncSession, actor: Actor) -> Case:
        case, calendar = await node_steps.run_step(
            number, step, given, session=session, actor=actor, now=now, issuing=issuing
        )
        # the answer's clock counts with the same calendar, not read again
        ctx.loaders.calendar_by_level.prime_from(case.level, session, calendar)
        return case

    async def at_node(client: NodeClient, actor: Actor) -> StepOutcome:
        # the node signs the licences an approval issues (with the org's key it keeps)
        answer = await client.take_case_step(
            number,
            step.value,
            actor=node_steps.encode_actor(actor),
            now=now,
            given=node_steps.encode_input(given),
            licence_fields=issuing.fields,
        )
        return remote.step_outcome(answer)

    return await act_on_case(
        info, number, STEP_ACTIONS[step], change, now=now, step=step, via_api=as_asked(at_node)
    )


async def display_name(info: Info) -> str:
    """The signed-in account's name, as a review opinion names who gave it."""
    async with info.context.identity.store.sessions() as session:
        account = await session.get(Account, info.context.viewer.subject)
    return account.display_name if account is not None else ""


async def deliver(info: Info, number: str, window_id: str | None, given: StepInput) -> CasePayload:
    """送达, at the output window when one is named (its global ID)."""
    try:
        level = parse_case_number(number, field=("input", "number")).division.level
        given.window_id = window_key(window_id, level)
    except DomainError as e:
        return CasePayload(errors=user_errors(e, info.context.locale))
    return await take_step(info, number, Step.DELIVER, given)


async def decide_part(
    info: Info, number: str, implementation_code: str, given: StepInput
) -> CasePayload:
    """联办: a department's director records its decision on its part."""
    now = info.context.clock.now()

    async def change(session: AsyncSession, actor: Actor) -> Case:
        return await case_service.decide_part(
            number, implementation_code, given, session=session, actor=actor, now=now
        )

    via_api = node_change("decidePart", number, now, given, implementationCode=implementation_code)
    return await act_on_case(info, number, Action.DECIDE_CASE, change, now=now, via_api=via_api)


def window_key(value: str | None, level: Level) -> str | None:
    """A window's key from its global ID; a window of another level is not at the org."""
    if value is None:
        return None
    gid = decode_id(value)
    if gid.type_name != "Window":
        raise DomainError(ErrorCode.INVALID_ID, field=["input", "windowId"])
    if gid.level is not level:
        raise DomainError(CaseErrorCode.WINDOW_NOT_AT_THIS_ORG, field=["input", "windowId"])
    return gid.key


async def case(info: Info, number: str) -> CaseType | None:
    """One case by number, from the node its number names; null when there is none or
    the viewer may not read it (the schema's guard answers null for the latter, for
    every viewer). Staff reads are audited: the case is answered once its read event is
    committed, in a batch with the other reads of the moment, after the connection that
    read it went back to the pool."""
    ctx = info.context
    parsed = parse_case_number(number)
    # the row the holder was found by: each node on the case's way is read once
    node, row = await holder_in(ctx.nodes, parsed.value)
    if row is None or not allows(ctx.viewer, Action.READ, case_target(row)):
        return None
    if ctx.viewer.kind is AccountKind.STAFF:
        # at a node with an address, written by the node (recordCaseReads)
        await audit_read(ctx.nodes, node, row, actor_of(info), ctx.clock.now())
    return CaseType.from_row(row)


async def _applicant_account(info: Info, value: str) -> str | None:
    """The account id of an applicant by resident ID number or credit code (a staff
    member's search); None when nobody applies under it."""
    ctx = info.context
    code = value.strip().upper()
    field = ("filter", "applicant")
    async with ctx.identity.store.sessions() as session:
        if stdnum_uscc.is_valid(code):
            return await session.scalar(select(Account.id).where(Account.credit_code == code))
        number = parse_id_number(code, field=field)
        return await session.scalar(
            select(Account.id).where(
                Account.id_number_hash == id_number_hash(ctx.identity.secret, number)
            )
        )


# the list reads whole cases as Core rows (``levels/common/reads.py``)
_case = table(Case)


def _filtered(f: CaseFilter, stmt: Select[Any]) -> Select[Any]:
    """The filter's status, org and division as SQL (the rest: ``_conditions``)."""
    if f.status is not None:
        stmt = stmt.where(_case.c.status == f.status)
    if f.org_code is not None:
        stmt = stmt.where(_case.c.org_code == f.org_code)
    if f.division_code is not None:
        below = parse_division(f.division_code, field=("filter", "divisionCode")).prefix
        stmt = stmt.where(held_within(_case.c.number, _case.c.division_code, below))
    return stmt


async def _conditions(info: Info, f: CaseFilter) -> CaseConditions:
    """The filter's days, clocks, overdue flags and applicant, judged on the hub's
    today: SQL for a store, sent to a node's list as they are."""
    kept_day(f.submitted_from, ("filter", "submittedFrom"))
    kept_day(f.submitted_to, ("filter", "submittedTo"))
    kept_day(f.accepted_from, ("filter", "acceptedFrom"))
    kept_day(f.accepted_to, ("filter", "acceptedTo"))
    applicant = None if f.applicant is None else await _applicant_account(info, f.applicant)
    return CaseConditions(
        today=china_date(info.context.clock.now()),
        submitted_from=f.submitted_from,
        submitted_to=f.submitted_to,
        accepted_from=f.accepted_from,
        accepted_to=f.accepted_to,
        clock_state=f.clock_state,
        referral_clock_state=f.referral_clock_state,
        pre_review_overdue=f.pre_review_overdue,
        push_overdue=f.push_overdue,
        archive_overdue=f.archive_overdue,
        by_applicant=f.applicant is not None,
        applicant_id=applicant,
    )


async def cases(
    info: Info, filter: CaseFilter | None, first: int | None, after: str | None
) -> Connection[CaseType]:
    ctx = info.context
    f = filter or CaseFilter()
    settings = ctx.settings
    size = page_size(first, default=settings.default_page_size, maximum=settings.max_page_size)
    levels = [f.level] if f.level else list(LEVELS)
    # the nodes holding those levels under the division asked for (else the viewer's
    # jurisdiction): one cursor position per node
    under = f.division_code if f.division_code is not None else ctx.viewer.jurisdiction
    if under is not None and level_of_division(under) is None:
        under = None
    start = decode_cursor(after, allowed=node_ids(ctx.sessions, levels, under))
    scope = case_scope(ctx.viewer)
    if scope is None:
        nothing: Page[Case] = merge_page({}, lambda r: r.number, first=size, start=start)
        return connection(nothing, CaseType.from_row)
    conditions = await _conditions(info, f)
    stmt = conditions.where(_filtered(f, scope.sql(select(_case))))
    if f.level is not None:
        # a node may hold several levels: the cases held at this one
        stmt = stmt.where(_case.c.level == f.level)
    if f.status is not CaseStatus.REFERRED:
        # a referred case is listed once, where it is now
        stmt = stmt.where(_case.c.status != CaseStatus.REFERRED)

    # the first page's statement, built once for every node (a later page's adds the
    # node's position: WHERE composes under the LIMIT)
    first_page = stmt.order_by(_case.c.number).limit(size + 1)

    async def fetch(node: Node, session: AsyncSession) -> Sequence[ReadRow | Case]:
        position = start.get(node.id)
        if position is None:
            return await rows(session, first_page)
        return await rows(session, first_page.where(_case.c.number > position))

    # a node reached through its API serves an account's own cases (``casesOf``) or a
    # division's range of cases (``cases``), the filter's conditions applied there
    listed = None
    if scope.subject is not None:
        listed = own_lister(f, conditions, scope, start, size, settings.max_page_size)
    elif under is not None:
        listed = remote_lister(
            ctx.nodes, f, conditions, scope, under, start, size, settings.max_page_size
        )
    result = await fan_out(
        ctx.sessions,
        levels,
        fetch,
        timeout=settings.node_timeout_seconds,
        under=under,
        remote=listed,
    )
    report_unavailable(info, result.unavailable)
    merged = merge_page(dict(result.values), lambda r: r.number, first=size, start=start)
    return connection(merged, CaseType.from_row)
