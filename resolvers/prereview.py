"""网上预审 over the API: the receiving staff of the org tell the applicant of an online
application its pre-review result (``levels/cases/prereview.py``); at a node the hub
reaches through its API, the node holding the case records it (``givePreReview``)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from auth.policy import Action
from levels.cases.enums import PreReviewResult
from levels.cases.models import Case
from levels.cases.prereview_record import record_pre_review
from levels.cases.service import Actor, StepInput
from resolvers.cases import act_on_case, node_change
from schema.cases import CasePayload
from schema.info import Info


async def give_pre_review(
    info: Info,
    number: str,
    result: PreReviewResult,
    missing: Sequence[tuple[str, str | None]],
    expected_version: int | None,
) -> CasePayload:
    """Record the result; whoever receives cases at the org (the policy table's
    RECEIVE_CASE) gives it. The clocks due by now are applied first, so a late result
    comes after its card."""
    now = info.context.clock.now()

    async def change(session: AsyncSession, actor: Actor) -> Case:
        return await record_pre_review(
            number,
            result,
            missing,
            expected_version=expected_version,
            session=session,
            actor=actor,
            now=now,
        )

    given = StepInput(expected_version=expected_version, missing=list(missing))
    via_api = node_change("givePreReview", number, now, given, result=result.value)
    return await act_on_case(info, number, Action.RECEIVE_CASE, change, now=now, via_api=via_api)
