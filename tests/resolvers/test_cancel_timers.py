"""A step's ended timers are cancelled by one Core UPDATE built once
(``levels/cases/steps.py: _cancel_timers``); the timers the session holds follow it,
as the ORM's bulk UPDATE had them follow: cancelled when pending and of the kinds
ended, untouched otherwise."""

from __future__ import annotations

from sqlalchemy import select

from gateway.nodes import NodeRegistry
from levels.cases.enums import TimerKind
from levels.cases.models import Case, CaseTimer
from levels.cases.steps import _cancel_timers
from levels.common.enums import Level
from tests.conftest import DEMO_NOW
from tests.resolvers.conftest import Waiting


async def test_the_held_timers_follow_the_update(nodes: NodeRegistry, waiting: Waiting) -> None:
    number = waiting.numbers[0]
    async with nodes[Level.COUNTY].sessions() as session:
        case = await session.get(Case, number)
        assert case is not None
        held = (
            await session.scalars(select(CaseTimer).where(CaseTimer.case_number == number))
        ).all()
        kinds = {t.kind for t in held}
        assert TimerKind.DEEMED_ACCEPTANCE in kinds, kinds
        await _cancel_timers(session, case, [TimerKind.DEEMED_ACCEPTANCE], DEMO_NOW)
        for timer in held:
            ended = timer.kind is TimerKind.DEEMED_ACCEPTANCE
            assert (timer.cancelled_at is not None) is ended, timer.kind
            assert timer not in session.dirty
        stored = {
            t.kind: t.cancelled_at
            for t in (
                await session.execute(
                    select(CaseTimer.kind, CaseTimer.cancelled_at).where(
                        CaseTimer.case_number == number
                    )
                )
            ).all()
        }
        assert {k: v is not None for k, v in stored.items()} == {
            t.kind: t.kind is TimerKind.DEEMED_ACCEPTANCE for t in held
        }
        await session.rollback()
