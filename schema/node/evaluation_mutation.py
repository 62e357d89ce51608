"""The node's mutations for what follows a rating: ``followUpRating`` — a rating's
rectification (回访, 整改完成), its appeal (申诉, the decision) and a complaint's handling
and the complainant's satisfaction, one mutation by ``action`` — and ``fileComplaint``
(投诉), each by the rules of ``levels/evaluations`` in the node's own transaction
(``levels/node/evaluations.py``) with its audit event in the node's chain. Who may act
is the hub's check, before it calls. Merged into the node's ``Mutation`` in
``schema/node/__init__.py``."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from levels.evaluations.enums import Satisfaction
from levels.node import evaluations
from levels.node.evaluations import FollowUpInput, FollowUpOutcome
from schema.node.context import NodeContext
from schema.node.mutation import ActorInput, HubNow, StepRefusal, _refusal
from schema.node.types import NodeInfo, row_columns


@strawberry.type(description="What became of a follow-up of a rating or a complaint")
class FollowUpResult:
    columns: JSON | None = strawberry.field(
        description="The rating, rectification or complaint as it now stands, every column "
        "(none: refused, nothing written)"
    )
    error: StepRefusal | None = strawberry.field(description="Why it was refused")


def _kept_here(context: NodeContext, division: str, level: Level, field: str) -> None:
    """DIVISION_NOT_OWNED unless this node keeps the rows of ``level`` about
    ``division`` (the one a public id leads with, a complaint's)."""
    if not (division[:12].isdigit() and context.scope.keeps(division[:12], level)):
        raise DomainError(ErrorCode.DIVISION_NOT_OWNED, field=[field], detail=division[:12])


def _result(context: NodeContext, outcome: FollowUpOutcome) -> FollowUpResult:
    row = outcome.row
    return FollowUpResult(
        columns=None if row is None else row_columns(type(row), row),
        error=_refusal(outcome.error, context.locale),
    )


@strawberry.type(name="EvaluationMutation", description="What follows a rating, here")
class EvaluationMutations:
    @strawberry.mutation(
        description="A follow-up of a rating, rectification or complaint this node keeps, "
        "by its public id: RECORD_CALLBACK (`text`: the note) and COMPLETE_RECTIFICATION "
        "(`text`: the measures) of a rectification, APPEAL_RATING (`text`: the reason) "
        "and DECIDE_APPEAL (`uphold`, `text`: the note) of a rating, HANDLE_COMPLAINT "
        "(`text`: the handling) and RATE_COMPLAINT_HANDLING (`satisfaction`) of a "
        "complaint; in its own transaction, an open one past its deadline flagged "
        "first. DIVISION_NOT_OWNED for a row of `level` about a division not kept here"
    )
    async def follow_up_rating(
        self,
        info: NodeInfo,
        id: Annotated[str, strawberry.argument(description="The row's public id")],
        action: Annotated[str, strawberry.argument(description="RECORD_CALLBACK, …")],
        level: Annotated[Level, strawberry.argument(description="The level it is kept at")],
        actor: ActorInput,
        now: HubNow,
        text: Annotated[str | None, strawberry.argument(description="Its text")] = None,
        uphold: Annotated[
            bool | None, strawberry.argument(description="A decision: uphold the appeal")
        ] = None,
        satisfaction: Annotated[
            str | None, strawberry.argument(description="A Satisfaction")
        ] = None,
    ) -> FollowUpResult:
        context = info.context
        _kept_here(context, id, level, "id")
        try:
            felt = None if satisfaction is None else Satisfaction(satisfaction)
        except ValueError:
            raise DomainError(
                ErrorCode.BAD_USER_INPUT, field=["satisfaction"], detail=str(satisfaction)[:40]
            ) from None
        given = FollowUpInput(text=text, uphold=uphold, satisfaction=felt)
        outcome = await evaluations.follow_up(
            context.sessions, action, id, given, level=level, actor=actor.actor(), now=now
        )
        return _result(context, outcome)

    @strawberry.mutation(
        description="投诉: a complaint kept here at `level` (with its case, else its window, "
        "else the staff member's org: the hub placed it), due `complaintDays` working "
        "days on by this node's calendar, in its own transaction. DIVISION_NOT_OWNED for "
        "a division not kept here"
    )
    async def file_complaint(
        self,
        info: NodeInfo,
        complaint: Annotated[
            JSON, strawberry.argument(description="The complaint as the hub placed it")
        ],
        level: Annotated[Level, strawberry.argument(description="The level it is kept at")],
        actor: ActorInput,
        now: HubNow,
        complaint_days: Annotated[
            int, strawberry.argument(description="处理时限 in working days (the hub's setting)")
        ],
    ) -> FollowUpResult:
        context = info.context
        draft = evaluations.decode_draft(complaint)
        _kept_here(context, draft.division_code, level, "complaint")
        outcome = await evaluations.file_complaint(
            context.sessions,
            draft,
            level=level,
            actor=actor.actor(),
            now=now,
            complaint_days=complaint_days,
        )
        return _result(context, outcome)
