"""The node's mutation for 好差评: ``rateCase``, a rating of a case the node holds, by
the rules of ``levels/evaluations`` in the node's own transaction
(``levels/node/ratings.py``) with its audit events in the node's chain; a 差评 opens
its rectification there too. Who may rate is the hub's check, before it calls."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from levels.common.errors import DomainError, ErrorCode
from levels.evaluations.enums import RatingLevel
from levels.evaluations.models import Evaluation, Rectification
from levels.node import ratings
from schema.node.mutation import ActorInput, CaseNumber, HubNow, StepRefusal, _refusal, held_here
from schema.node.types import NodeInfo, row_columns


@strawberry.type(description="What became of a rating")
class RatingResult:
    columns: JSON | None = strawberry.field(
        description="The rating as written, every column (none: refused, nothing written)"
    )
    rectification: JSON | None = strawberry.field(
        description="The rectification a 差评 opened, every column"
    )
    error: StepRefusal | None = strawberry.field(description="Why it was refused")


@strawberry.type(name="RatingMutation", description="好差评 of a case this node holds")
class RatingMutations:
    @strawberry.mutation(
        description="好差评: rate a case this node holds, on the actor's channel, in its own "
        "transaction; a 差评 opens a rectification due `rectificationDays` working days on"
    )
    async def rate_case(
        self,
        info: NodeInfo,
        number: CaseNumber,
        rating: Annotated[str, strawberry.argument(description="A RatingLevel")],
        actor: ActorInput,
        now: HubNow,
        rectification_days: Annotated[
            int, strawberry.argument(description="整改时限 in working days (the hub's setting)")
        ],
        comment: Annotated[str | None, strawberry.argument(description="Its comment")] = None,
    ) -> RatingResult:
        context = info.context
        held_here(context, number, now)
        try:
            level = RatingLevel(rating)
        except ValueError:
            raise DomainError(
                ErrorCode.BAD_USER_INPUT, field=["rating"], detail=rating[:40]
            ) from None
        outcome = await ratings.rate_case(
            context.sessions,
            number,
            level,
            comment,
            actor=actor.actor(),
            now=now,
            rectification_days=rectification_days,
        )
        return RatingResult(
            columns=row_columns(Evaluation, outcome.evaluation),
            rectification=row_columns(Rectification, outcome.rectification),
            error=_refusal(outcome.error, context.locale),
        )
