"""好差评 through the node API: at a node the hub reaches through its API, a rating is
written there (``rateCase``, ``levels/node/ratings.py``) from the case row the hub read
(``holder_in``), and what follows it — a rectification's callback and completion, an
appeal and its decision, a complaint filed, handled and rated (``followUpRating``,
``fileComplaint``, ``levels/node/evaluations.py``) — from the row the hub read there
(``orgRecords`` by public id), each checked against the policy table as the store's
path checks it (``check_row``, which that path runs too)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from auth.policy import Action, Resource, Target, allows, refusal
from levels.cases.models import Case
from levels.common.enums import Level
from levels.common.errors import DomainError
from levels.common.rowcodec import decode_row
from levels.evaluations.errors import EvaluationErrorCode as E
from levels.evaluations.models import Complaint, Evaluation, Rectification
from levels.evaluations.service import ComplaintDraft
from levels.node.evaluations import FOLLOW_UPS, FollowUpInput
from levels.node.steps import encode_actor
from resolvers import node_evaluation_calls, nodewrites
from resolvers.cases import actor_of
from resolvers.fanout import guarded
from resolvers.nodeclient import NodeClient
from resolvers.registry import Node
from resolvers.remote import _refusal
from schema.cases import case_target
from schema.evaluations import ComplaintType, EvaluationType, RectificationType
from schema.info import Info

Row = TypeVar("Row", Evaluation, Rectification, Complaint)
# each row's global-ID type name and schema type
VIEWS: dict[type[Any], tuple[str, Any]] = {
    Evaluation: ("Evaluation", EvaluationType),
    Rectification: ("Rectification", RectificationType),
    Complaint: ("Complaint", ComplaintType),
}


def refuse(info: Info, action: Action, target: Target) -> DomainError:
    """Why the viewer may not make a change of a row they may read."""
    if action is Action.FILE_COMPLAINT:
        return DomainError(E.NOT_THE_COMPLAINANT, field=["input", "id"])
    if refusal(info.context.viewer, action, target) == "REACH":
        return DomainError(E.NOT_AT_THIS_ORG, field=["input", "id"])
    return DomainError(E.ROLE_NOT_ALLOWED, field=["input", "id"])


def check_row(info: Info, level: Level, row: Row | None, not_found: E, action: Action) -> Row:
    """The viewer must read the rating, rectification or complaint (one they may not
    read does not exist for them) and may make the change ``action``."""
    viewer = info.context.viewer
    target = VIEWS[type(row)][1].from_row(level, row).authz_target() if row is not None else None
    if row is None or target is None or not allows(viewer, Action.READ, target):
        raise DomainError(not_found, field=["input", "id"])
    if not allows(viewer, action, target):
        raise refuse(info, action, target)
    return row


async def _written_at(
    info: Info,
    node: Node,
    call: Callable[[NodeClient], Awaitable[dict[str, Any]]],
    model: type[Row],
    refused_as: DomainError,
) -> Row:
    """One write asked of ``node`` through its API: the row it answers, decoded; the
    node's refusal raised as the same ``DomainError``, a node that does not answer
    ``NodeUnavailable`` naming it."""
    client = node.client
    assert client is not None
    answer = await guarded(info.context.nodes.breakers, node, lambda: call(client), client.timeout)
    refused = _refusal(answer)
    columns = answer.get("columns")
    if refused is not None or not isinstance(columns, dict):
        raise refused or refused_as
    row: Row = decode_row(model, columns)
    return row


def check_rating(info: Info, row: Case | None) -> Case:
    """The viewer must read the case (else it is not found for them) and be the one who
    may rate it (its applicant)."""
    viewer = info.context.viewer
    if row is None or not allows(viewer, Action.READ, case_target(row)):
        raise DomainError(E.CASE_NOT_FOUND, field=["input", "caseNumber"])
    target = Target(
        Resource.EVALUATION,
        division_code=row.division_code,
        owner=row.applicant_id,
        org_code=row.org_code,
    )
    if not allows(viewer, Action.RATE_CASE, target):
        raise DomainError(E.NOT_THE_APPLICANT, field=["input", "caseNumber"])
    return row


async def rate_at_node(
    info: Info, node: Node, row: Case | None, input: Any, now: dt.datetime
) -> Evaluation:
    """``rateCase`` asked of the node holding the case, after the hub's check on the
    row it read there."""
    ctx = info.context
    number = check_rating(info, row).number
    actor = encode_actor(actor_of(info))
    return await _written_at(
        info,
        node,
        lambda client: nodewrites.write(
            client,
            "rateCase",
            actor=actor,
            now=now,
            number=number,
            rating=input.rating.value,
            rectificationDays=ctx.settings.rectification_days,
            comment=input.comment,
        ),
        Evaluation,
        DomainError(E.CASE_NOT_FOUND, field=["input", "caseNumber"]),
    )


async def follow_up_at_node(
    info: Info,
    node: Node,
    level: Level,
    key: str,
    action: str,
    policy: Action,
    given: FollowUpInput,
    now: dt.datetime,
) -> Any:
    """Follow-up ``action`` (``levels.node.evaluations.FOLLOW_UPS``) of the row with
    public id ``key`` at ``level``, asked of ``node``, which keeps it, after the hub's
    check on the row it read there (``orgRecords`` by public id)."""
    follow = FOLLOW_UPS[action]
    loaders = info.context.loaders
    loader: Any = {
        Evaluation: loaders.evaluation_by_public_id,
        Rectification: loaders.rectification_by_public_id,
        Complaint: loaders.complaint_by_public_id,
    }[follow.model]
    check_row(info, level, await loader.load((level, key)), follow.not_found, policy)
    actor = encode_actor(actor_of(info))
    return await _written_at(
        info,
        node,
        lambda client: node_evaluation_calls.follow_up(
            client, key, action, given, level=level, actor=actor, now=now
        ),
        follow.model,
        DomainError(follow.not_found, field=["input", "id"]),
    )


async def file_at_node(
    info: Info, node: Node, level: Level, draft: ComplaintDraft, now: dt.datetime
) -> Complaint:
    """投诉 filed at ``node``, where the hub placed it (its case's, window's or staff
    member's org's node), at ``level``."""
    actor = encode_actor(actor_of(info))
    days = info.context.settings.complaint_days
    return await _written_at(
        info,
        node,
        lambda client: node_evaluation_calls.file_complaint(
            client, draft, level=level, actor=actor, now=now, complaint_days=days
        ),
        Complaint,
        DomainError(E.COMPLAINT_TARGET_REQUIRED, field=["input"]),
    )
