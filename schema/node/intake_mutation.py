"""The node's mutation for a case received below the deciding org (收件 at a village
station or a town centre for the county, then 转报): ``receiveCase``, written at the
node holding the receiving division, by the rules of ``levels/cases/intake.py`` in the
node's own transaction (``levels/node/intake.py``) — the case numbered there, its
materials, referral clock, notice and SUBMIT event, or nothing.

What the hub decides travels as for ``submitCase`` (``submission``, with its
``received_by``); when another node keeps the implementing item, the hub reads the item
and its guide there and sends them (``item``); otherwise the node's own store is the
catalogue. The applicant's licences travel as ``library`` (``levels/licences/held.py``)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from levels.common.errors import DomainError, ErrorCode
from levels.node import intake
from schema.node.mutation import (
    ActorInput,
    ApplicantLanguage,
    HeldArg,
    HubNow,
    SubmissionArg,
    SubmissionResult,
    decode_submission,
    submitted,
)
from schema.node.types import NodeInfo


@strawberry.type(name="IntakeMutation", description="A case received below the deciding org")
class IntakeMutations:
    @strawberry.mutation(
        description="收件 below the deciding org: receive a case at the village station or "
        "town centre of a division this node holds, for an item of an org above it, in this "
        "node's own transaction. `submission` is what the hub decided (with `received_by`); "
        "`item` the implementing item and its guide, read by the hub where another node "
        "keeps them (none: this node keeps them)"
    )
    async def receive_case(
        self,
        info: NodeInfo,
        submission: SubmissionArg,
        actor: ActorInput,
        now: HubNow,
        item: Annotated[
            JSON | None,
            strawberry.argument(description="The implementing item and its guide: item, guide"),
        ] = None,
        applicant_language: ApplicantLanguage = None,
        library: HeldArg = None,
    ) -> SubmissionResult:
        context = info.context
        given = decode_submission(submission, now)
        below = given.received_by
        if below is None:
            raise DomainError(
                ErrorCode.BAD_USER_INPUT, field=["submission"], detail="not received below"
            )
        if not context.scope.keeps(below.division_code, below.level):
            raise DomainError(
                ErrorCode.DIVISION_NOT_OWNED, field=["submission"], detail=below.division_code
            )
        read = intake.decode_item_read(item)
        return await submitted(context, given, actor, now, applicant_language, read, library)
