"""The node's mutation for 代办 (an agent's submission for a resident):
``receiveForResident``, at the node holding the village, in the node's own transaction
(``levels/node/proxy.py``) — the resident's authorization locked and checked, the case
received with it and the station's service record, or nothing.

What the hub decides travels as for ``receiveCase`` (``submission``; its applicant,
phone and authorization are the authorization's, filled at the node) with the
``receipt`` (``encode_receipt``: the authorization, the agent's village, the matter, the
resident named, the route's modes and the service asked for); when another node keeps
the implementing item, the hub reads the item and its guide there and sends them
(``item``), and the resident's licences read in the city's library (``library``,
``levels/licences/held.py``)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from levels.cases.models import Case as CaseRow
from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from levels.licences.held import decode_held
from levels.node import intake, proxy
from schema.node.mutation import (
    ActorInput,
    ApplicantLanguage,
    HeldArg,
    HubNow,
    SubmissionArg,
    SubmissionResult,
    _refusal,
    decode_submission,
    keeps_library,
)
from schema.node.types import NodeInfo, row_columns


@strawberry.type(name="ProxyMutation", description="代办: a village station's submission")
class ProxyMutations:
    @strawberry.mutation(
        description="代办: receive at the station of a village this node holds a case an "
        "agent hands in for a resident, in this node's own transaction: the authorization "
        "locked and checked (AUTHORIZATION_NOT_FOUND for one of another village), the case "
        "and the station's service record. `submission` is what the hub decided, `receipt` "
        "what it is checked against; `item` the implementing item and its guide, read by "
        "the hub where another node keeps them (none: this node keeps them)"
    )
    async def receive_for_resident(
        self,
        info: NodeInfo,
        submission: SubmissionArg,
        receipt: Annotated[
            JSON, strawberry.argument(description="The authorization and service asked for")
        ],
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
        asked = proxy.decode_receipt(receipt)
        if not context.scope.keeps(asked.village_code, Level.VILLAGE):
            raise DomainError(
                ErrorCode.DIVISION_NOT_OWNED, field=["receipt"], detail=asked.village_code
            )
        below = given.received_by
        if below is not None and below.division_code != asked.village_code:
            raise DomainError(
                ErrorCode.BAD_USER_INPUT, field=["submission"], detail="not this village's"
            )
        outcome = await proxy.receive_for_resident(
            context.sessions,
            asked,
            given,
            language=applicant_language,
            actor=actor.actor(),
            now=now,
            signer=context.licence_signer,
            keeps_library=keeps_library(context.scope, given.implementation_code),
            read=intake.decode_item_read(item),
            held=decode_held(library),
        )
        return SubmissionResult(
            columns=row_columns(CaseRow, outcome.case),
            error=_refusal(outcome.error, context.locale),
        )
