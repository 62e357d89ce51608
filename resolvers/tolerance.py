"""Resolvers of 容缺受理 after acceptance: thin — the rules are in
``levels/cases/tolerance.py`` and ``levels/cases/handin.py``. Both run through
``act_on_case``: the case's due timers fire first, so a hand-in after the promised day
finds the case as the deadline left it (TOLERANCE_DEADLINE_PASSED, with the case). At
a node the hub reaches through its API, the node holding the case runs them
(``handInTolerated``, ``overrideTolerance``)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from auth.policy import Action
from levels.cases import handin
from levels.cases.models import Case
from levels.cases.service import Actor, MaterialDraft, StepInput
from resolvers.cases import act_on_case, node_change
from schema.cases import CasePayload
from schema.info import Info


async def hand_in(
    info: Info, number: str, drafts: Sequence[MaterialDraft], expected_version: int | None
) -> CasePayload:
    """The applicant (or the receptionist for them) hands in a promised material."""
    now = info.context.clock.now()

    async def change(session: AsyncSession, actor: Actor) -> Case:
        return await handin.hand_in(
            number, drafts, expected_version=expected_version, session=session, actor=actor, now=now
        )

    given = StepInput(expected_version=expected_version, materials=list(drafts))
    via_api = node_change("handInTolerated", number, now, given)
    return await act_on_case(info, number, Action.SUPPLEMENT_CASE, change, now=now, via_api=via_api)


async def override(
    info: Info, number: str, reason: str | None, expected_version: int | None
) -> CasePayload:
    """A director lets the case be decided without the outstanding material."""
    now = info.context.clock.now()

    async def change(session: AsyncSession, actor: Actor) -> Case:
        return await handin.override(
            number, reason, expected_version=expected_version, session=session, actor=actor, now=now
        )

    given = StepInput(expected_version=expected_version, reasons=reason)
    via_api = node_change("overrideTolerance", number, now, given)
    return await act_on_case(info, number, Action.DECIDE_CASE, change, now=now, via_api=via_api)
