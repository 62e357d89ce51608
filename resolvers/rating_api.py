"""好差评 through the node API: at a node the hub reaches through its API, a rating is
written there (``rateCase``, ``levels/node/ratings.py``) from the case row the hub read
(``holder_in``) and checked against the policy table, as the store's path checks it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from auth.policy import Action, Resource, Target, allows
from levels.cases.models import Case
from levels.common.errors import DomainError
from levels.common.rowcodec import decode_row
from levels.evaluations.errors import EvaluationErrorCode as E
from levels.evaluations.models import Evaluation
from levels.node.steps import encode_actor
from resolvers import nodewrites
from resolvers.cases import actor_of
from resolvers.fanout import guarded
from resolvers.registry import Node
from resolvers.remote import _refusal
from schema.cases import case_target
from schema.info import Info


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
    row it read there; the node's refusal raised as the same ``DomainError``, a node
    that does not answer ``NodeUnavailable`` naming it."""
    ctx = info.context
    client = node.client
    assert client is not None
    number = check_rating(info, row).number
    actor = encode_actor(actor_of(info))
    answer = await guarded(
        ctx.nodes.breakers,
        node,
        lambda: nodewrites.write(
            client,
            "rateCase",
            actor=actor,
            now=now,
            number=number,
            rating=input.rating.value,
            rectificationDays=ctx.settings.rectification_days,
            comment=input.comment,
        ),
        client.timeout,
    )
    refused = _refusal(answer)
    columns = answer.get("columns")
    if refused is not None or not isinstance(columns, dict):
        raise refused or DomainError(E.CASE_NOT_FOUND, field=["input", "caseNumber"])
    return decode_row(Evaluation, columns)
