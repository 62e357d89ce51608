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
from auth.policy import Action, Resource, Target, allows
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
from levels.node.evaluations import FOLLOW_UPS, FollowUpInput
from resolvers import legacy_ids, rating_api
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
    # an ID of the previous release names the row's number: its public key, asked of
    # the nodes holding the level (or the number, in the one store of the level)
    key = await legacy_ids.row_key(info, gid.type_name, gid.level, row_key(gid), ("id",))
    if key is None:
        return None
    loaders = info.context.loaders
    row: Evaluation | Rectification | Complaint | None
    if isinstance(key, int):  # the row's number in the one store of the level
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


# the policy table's action of each follow-up (``levels.node.evaluations.FOLLOW_UPS``)
_POLICY: dict[str, Action] = {
    "RECORD_CALLBACK": Action.RECTIFY,
    "COMPLETE_RECTIFICATION": Action.RECTIFY,
    "APPEAL_RATING": Action.RECTIFY,
    "DECIDE_APPEAL": Action.DECIDE_APPEAL,
    "HANDLE_COMPLAINT": Action.HANDLE_COMPLAINT,
    "RATE_COMPLAINT_HANDLING": Action.FILE_COMPLAINT,
}
# the payload of each row, and its field
_PAYLOADS: dict[type[Any], tuple[Any, str]] = {
    Evaluation: (EvaluationPayload, "evaluation"),
    Rectification: (RectificationPayload, "rectification"),
    Complaint: (ComplaintPayload, "complaint"),
}


async def _act_on(info: Info, value: str, action: str, given: FollowUpInput) -> tuple[Level, Any]:
    """Find the rating, rectification or complaint a mutation names, check the policy
    table against it, and make follow-up ``action`` in one transaction of its store —
    through its node's API when the node has an address (``followUpRating``)."""
    follow = FOLLOW_UPS[action]
    type_name = rating_api.VIEWS[follow.model][0]
    level, given_key = _key(value, type_name)
    key = await legacy_ids.row_key(info, type_name, level, given_key, ("input", "id"))
    if key is None:  # an ID of the previous release that no node numbers
        raise DomainError(follow.not_found, field=["input", "id"])
    node = _node_at(info, level, key)
    now = info.context.clock.now()
    if node.client is not None and isinstance(key, str):
        row = await rating_api.follow_up_at_node(
            info, node, level, key, action, _POLICY[action], given, now
        )
        return level, row

    async def work(session: AsyncSession) -> Any:
        found: Any = await by_key(session, follow.model, key)
        row = rating_api.check_row(info, level, found, follow.not_found, _POLICY[action])
        return await follow.change(
            row.id, given, level=level.value, session=session, actor=actor_of(info), now=now
        )

    return level, await _write(info, node, work)


async def _followed(info: Info, value: str, action: str, given: FollowUpInput) -> Any:
    """The payload of follow-up ``action``: the row as it now stands, or the refusal."""
    model = FOLLOW_UPS[action].model
    payload, name = _PAYLOADS[model]
    try:
        level, row = await _act_on(info, value, action, given)
    except DomainError as e:
        return payload(errors=user_errors(e, info.context.locale))
    return payload(**{name: rating_api.VIEWS[model][1].from_row(level, row)})


async def record_callback(info: Info, input: Any) -> RectificationPayload:
    given = FollowUpInput(text=input.note)
    payload: RectificationPayload = await _followed(info, input.id, "RECORD_CALLBACK", given)
    return payload


async def complete_rectification(info: Info, input: Any) -> RectificationPayload:
    given = FollowUpInput(text=input.measures)
    payload: RectificationPayload = await _followed(info, input.id, "COMPLETE_RECTIFICATION", given)
    return payload


async def appeal_rating(info: Info, input: Any) -> EvaluationPayload:
    given = FollowUpInput(text=input.reason)
    payload: EvaluationPayload = await _followed(info, input.id, "APPEAL_RATING", given)
    return payload


async def decide_appeal(info: Info, input: Any) -> EvaluationPayload:
    given = FollowUpInput(text=input.note, uphold=input.uphold)
    payload: EvaluationPayload = await _followed(info, input.id, "DECIDE_APPEAL", given)
    return payload


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
        # the case read where it is held: through its node's API when it has an address
        node, row = await holder_in(ctx.nodes, number)
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
        window: Window | None
        if at.client is not None and isinstance(gid.key, str):
            window = await ctx.loaders.window_by_id.load(gid.key)
        else:
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
        if home.client is not None:
            filed = await rating_api.file_at_node(info, home, level, draft, now)
            return ComplaintPayload(complaint=ComplaintType.from_row(level, filed))

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


async def handle_complaint(info: Info, input: Any) -> ComplaintPayload:
    given = FollowUpInput(text=input.handling)
    payload: ComplaintPayload = await _followed(info, input.id, "HANDLE_COMPLAINT", given)
    return payload


async def rate_complaint_handling(info: Info, input: Any) -> ComplaintPayload:
    given = FollowUpInput(satisfaction=input.satisfaction)
    payload: ComplaintPayload = await _followed(info, input.id, "RATE_COMPLAINT_HANDLING", given)
    return payload
