"""Resolvers of 好差评 and complaints: thin — parse, check the policy table, call
``levels/evaluations``, wrap the result. A rating and its rectification are written in
one transaction of the store that holds the case. The lists and roll-ups are in
``resolvers/evaluation_lists.py``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from auth.enums import AccountKind
from auth.models import Account
from auth.policy import Action, Resource, Target, allows, refusal
from levels.calendar.workdays import load_calendar
from levels.cases.models import Case
from levels.cases.numbers import parse_case_number
from levels.common.codes import level_of_division
from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from levels.common.models import Window
from levels.common.publicids import by_key
from levels.evaluations import service
from levels.evaluations.errors import EvaluationErrorCode as E
from levels.evaluations.models import Complaint, Evaluation, Rectification
from resolvers import rating_api
from resolvers.cases import actor_of, holder, holder_in
from resolvers.globalid import GlobalId, decode_id, decode_row_key, row_key
from resolvers.registry import Node
from schema.evaluations import (
    ComplaintPayload,
    ComplaintType,
    EvaluationPayload,
    EvaluationType,
    RectificationPayload,
    RectificationType,
)
from schema.info import Info
from schema.payloads import user_errors

T = TypeVar("T")
LIST_LIMIT = 100


def _refuse(info: Info, action: Action, target: Target) -> DomainError:
    if action is Action.FILE_COMPLAINT:
        return DomainError(E.NOT_THE_COMPLAINANT, field=["input", "id"])
    if refusal(info.context.viewer, action, target) == "REACH":
        return DomainError(E.NOT_AT_THIS_ORG, field=["input", "id"])
    return DomainError(E.ROLE_NOT_ALLOWED, field=["input", "id"])


def _key(value: str, type_name: str) -> tuple[Level, str | int]:
    """The level and row key of one of this domain's global IDs."""
    return decode_row_key(value, type_name, ("input", "id"))


NODE_TYPES = frozenset({"Evaluation", "Rectification", "Complaint"})
_MODELS: dict[str, type[Evaluation | Rectification | Complaint]] = {
    "Evaluation": Evaluation,
    "Rectification": Rectification,
    "Complaint": Complaint,
}


async def node(
    info: Info, gid: GlobalId
) -> EvaluationType | RectificationType | ComplaintType | None:
    """``node(id:)`` of a rating, rectification or complaint: null when there is no
    such row (or the viewer may not read it)."""
    key = row_key(gid)
    loaders = info.context.loaders
    row: Evaluation | Rectification | Complaint | None
    if isinstance(key, int):  # an ID of the previous release: the row's number
        async with _node_at(info, gid.level, key).sessions() as session:
            row = await by_key(session, _MODELS[gid.type_name], key)
    elif gid.type_name == "Evaluation":
        row = await loaders.evaluation_by_public_id.load((gid.level, key))
    elif gid.type_name == "Rectification":
        row = await loaders.rectification_by_public_id.load((gid.level, key))
    else:
        row = await loaders.complaint_by_public_id.load((gid.level, key))
    # one the viewer may not read is null too: the schema's guard sees to that
    if isinstance(row, Evaluation):
        return EvaluationType.from_row(gid.level, row)
    if isinstance(row, Rectification):
        return RectificationType.from_row(gid.level, row)
    return ComplaintType.from_row(gid.level, row) if row is not None else None


def _node_at(info: Info, level: Level, where: str | int) -> Node:
    """The node holding ``where`` at ``level``: a division code or a row's public key
    (it leads with the division that holds the row); a row number of the previous
    release's IDs names no division, so the one node of the level."""
    nodes = info.context.nodes
    return nodes.owner_at(where, level) if isinstance(where, str) else nodes.single(level)


async def _write(info: Info, node: Node, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async with node.sessions.begin() as session:
        return await work(session)


async def rate_case(info: Info, input: Any) -> EvaluationPayload:
    ctx = info.context
    now = ctx.clock.now()
    try:
        number = parse_case_number(input.case_number, field=("input", "caseNumber")).value
        if ctx.nodes.owner(parse_case_number(number).division).client is not None:
            # the case read through the API, the rating written at the node holding it
            node, held = await holder_in(ctx.nodes, number)
            if node.client is not None:
                rated_row = await rating_api.rate_at_node(info, node, held, input, now)
                level = _level_at(node, rated_row)
                return EvaluationPayload(evaluation=EvaluationType.from_row(level, rated_row))
        node = await holder(info, number)

        async def work(session: AsyncSession) -> service.Rated:
            rating_api.check_rating(info, await session.get(Case, number))
            return await service.rate_case(
                number,
                input.rating,
                input.comment,
                session=session,
                actor=actor_of(info),
                now=now,
                calendar=await load_calendar(session=session),
                rectification_days=ctx.settings.rectification_days,
            )

        rated = await _write(info, node, work)
    except DomainError as e:
        return EvaluationPayload(errors=user_errors(e, ctx.locale))
    level = _level_at(node, rated.evaluation)
    return EvaluationPayload(evaluation=EvaluationType.from_row(level, rated.evaluation))


Row = TypeVar("Row", Evaluation, Rectification, Complaint)
# each row's global-ID type name and schema type
_VIEWS: dict[type[Any], tuple[str, Any]] = {
    Evaluation: ("Evaluation", EvaluationType),
    Rectification: ("Rectification", RectificationType),
    Complaint: ("Complaint", ComplaintType),
}


async def _act_on(
    info: Info,
    value: str,
    model: type[Row],
    not_found: E,
    action: Action,
    change: Callable[[AsyncSession, int, str], Awaitable[Row]],
) -> tuple[Level, Row]:
    """Find the rating, rectification or complaint a mutation names, check the policy
    table against it, and make the change in one transaction of its store."""
    type_name, view = _VIEWS[model]
    level, key = _key(value, type_name)

    async def work(session: AsyncSession) -> Row:
        row = await by_key(session, model, key)
        target = view.from_row(level, row).authz_target() if row is not None else None
        # one the viewer may not read does not exist for them
        if row is None or target is None or not allows(info.context.viewer, Action.READ, target):
            raise DomainError(not_found, field=["input", "id"])
        if not allows(info.context.viewer, action, target):
            raise _refuse(info, action, target)
        return await change(session, row.id, level.value)

    return level, await _write(info, _node_at(info, level, key), work)


async def _on_rectification(
    info: Info,
    value: str,
    change: Callable[[AsyncSession, int, str], Awaitable[Rectification]],
) -> RectificationPayload:
    try:
        level, row = await _act_on(
            info, value, Rectification, E.RECTIFICATION_NOT_FOUND, Action.RECTIFY, change
        )
    except DomainError as e:
        return RectificationPayload(errors=user_errors(e, info.context.locale))
    return RectificationPayload(rectification=RectificationType.from_row(level, row))


async def record_callback(info: Info, input: Any) -> RectificationPayload:
    now = info.context.clock.now()

    async def change(session: AsyncSession, rid: int, level: str) -> Rectification:
        return await service.record_callback(
            rid, input.note, level=level, session=session, actor=actor_of(info), now=now
        )

    return await _on_rectification(info, input.id, change)


async def complete_rectification(info: Info, input: Any) -> RectificationPayload:
    now = info.context.clock.now()

    async def change(session: AsyncSession, rid: int, level: str) -> Rectification:
        return await service.complete_rectification(
            rid, input.measures, level=level, session=session, actor=actor_of(info), now=now
        )

    return await _on_rectification(info, input.id, change)


async def _on_evaluation(
    info: Info,
    value: str,
    action: Action,
    change: Callable[[AsyncSession, int, str], Awaitable[Evaluation]],
) -> EvaluationPayload:
    try:
        level, row = await _act_on(info, value, Evaluation, E.RATING_NOT_FOUND, action, change)
    except DomainError as e:
        return EvaluationPayload(errors=user_errors(e, info.context.locale))
    return EvaluationPayload(evaluation=EvaluationType.from_row(level, row))


async def appeal_rating(info: Info, input: Any) -> EvaluationPayload:
    now = info.context.clock.now()

    async def change(session: AsyncSession, eid: int, level: str) -> Evaluation:
        return await service.appeal_rating(
            eid, input.reason, level=level, session=session, actor=actor_of(info), now=now
        )

    return await _on_evaluation(info, input.id, Action.RECTIFY, change)


async def decide_appeal(info: Info, input: Any) -> EvaluationPayload:
    now = info.context.clock.now()

    async def change(session: AsyncSession, eid: int, level: str) -> Evaluation:
        return await service.decide_appeal(
            eid,
            input.uphold,
            input.note,
            level=level,
            session=session,
            actor=actor_of(info),
            now=now,
        )

    return await _on_evaluation(info, input.id, Action.DECIDE_APPEAL, change)


def _level_at(node: Node, row: Any) -> Level:
    """The level a row was kept at: its node's, or — on a node holding several — the
    level of the division the row names."""
    if len(node.levels) == 1:
        return node.levels[0]
    return level_of_division(getattr(row, "division_code", "")) or node.levels[-1]


# -- complaints ------------------------------------------------------------------------


async def _complaint_place(info: Info, input: Any) -> tuple[Level, Node, service.ComplaintDraft]:
    """Where a complaint lives: with its case, else its window, else the staff
    member's org; a window or staff member named with a case must be of its org."""
    ctx = info.context
    number = org = division = window_id = staff_id = None
    level: Level | None = None
    home: Node | None = None
    if input.case_number:
        number = parse_case_number(input.case_number, field=("input", "caseNumber")).value
        node = await holder(info, number)
        async with node.sessions() as session:
            row = await session.get(Case, number)
        if row is None or not allows(
            ctx.viewer,
            Action.READ,
            Target(Resource.CASE, division_code=row.division_code, owner=row.applicant_id,
                   org_code=row.org_code, submitter=row.submitted_by),
        ):  # fmt: skip
            raise DomainError(E.CASE_NOT_FOUND, field=["input", "caseNumber"])
        level = node.levels[0] if len(node.levels) == 1 else row.level
        home, org, division = node, row.org_code, row.division_code
    if input.window_id:
        gid = decode_id(input.window_id)
        if gid.type_name != "Window":
            raise DomainError(ErrorCode.INVALID_ID, field=["input", "windowId"])
        at = _node_at(info, gid.level, gid.key)
        async with at.sessions() as session:
            window = await session.get(Window, gid.key)
        if window is None:
            raise DomainError(E.WINDOW_NOT_FOUND, field=["input", "windowId"])
        if org is not None and window.org_code != org:
            raise DomainError(E.TARGETS_DISAGREE, field=["input", "windowId"])
        window_id = window.id
        if level is None:
            level, home, org = gid.level, at, window.org_code
            division = await _org_division(info, gid.level, window.org_code)
    if input.staff_id:
        async with ctx.identity.store.sessions() as session:
            staff = await session.get(Account, input.staff_id.strip())
        if staff is None or staff.kind is not AccountKind.STAFF or staff.org_level is None:
            raise DomainError(E.STAFF_NOT_FOUND, field=["input", "staffId"])
        if org is not None and staff.org_code != org:
            raise DomainError(E.TARGETS_DISAGREE, field=["input", "staffId"])
        staff_id = staff.id
        if level is None:
            level, org, division = staff.org_level, staff.org_code, staff.division_code
            if division is not None:
                home = _node_at(info, level, division)
    if level is None or home is None or org is None or division is None:
        raise DomainError(E.COMPLAINT_TARGET_REQUIRED, field=["input"])
    draft = service.ComplaintDraft(
        content=input.content,
        org_code=org,
        division_code=division,
        case_number=number,
        window_id=window_id,
        staff_id=staff_id,
    )
    return level, home, draft


async def _org_division(info: Info, level: Level, org_code: str) -> str:
    org = await info.context.loaders.service_org_by_code.load((level, org_code))
    if org is None:
        raise DomainError(E.WINDOW_NOT_FOUND, field=["input", "windowId"])
    return str(org.division_code)


async def file_complaint(info: Info, input: Any) -> ComplaintPayload:
    ctx = info.context
    now = ctx.clock.now()
    try:
        if not allows(ctx.viewer, Action.FILE_COMPLAINT, Target(Resource.COMPLAINT)):
            raise DomainError(E.ROLE_NOT_ALLOWED, field=["input"])
        level, home, draft = await _complaint_place(info, input)

        async def work(session: AsyncSession) -> Complaint:
            return await service.file_complaint(
                draft,
                level=level.value,
                session=session,
                actor=actor_of(info),
                now=now,
                calendar=await load_calendar(session=session),
                complaint_days=ctx.settings.complaint_days,
            )

        row = await _write(info, home, work)
    except DomainError as e:
        return ComplaintPayload(errors=user_errors(e, ctx.locale))
    return ComplaintPayload(complaint=ComplaintType.from_row(level, row))


async def _on_complaint(
    info: Info,
    value: str,
    action: Action,
    change: Callable[[AsyncSession, int, str], Awaitable[Complaint]],
) -> ComplaintPayload:
    try:
        level, row = await _act_on(info, value, Complaint, E.COMPLAINT_NOT_FOUND, action, change)
    except DomainError as e:
        return ComplaintPayload(errors=user_errors(e, info.context.locale))
    return ComplaintPayload(complaint=ComplaintType.from_row(level, row))


async def handle_complaint(info: Info, input: Any) -> ComplaintPayload:
    now = info.context.clock.now()

    async def change(session: AsyncSession, cid: int, level: str) -> Complaint:
        return await service.handle_complaint(
            cid, input.handling, level=level, session=session, actor=actor_of(info), now=now
        )

    return await _on_complaint(info, input.id, Action.HANDLE_COMPLAINT, change)


async def rate_complaint_handling(info: Info, input: Any) -> ComplaintPayload:
    now = info.context.clock.now()

    async def change(session: AsyncSession, cid: int, level: str) -> Complaint:
        return await service.rate_complaint_handling(
            cid, input.satisfaction, level=level, session=session, actor=actor_of(info), now=now
        )

    return await _on_complaint(info, input.id, Action.FILE_COMPLAINT, change)
