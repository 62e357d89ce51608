"""Deadlines as rows (``case_timers``), fired by a worker: a restart never forgets one,
and firing twice changes nothing — a timer is marked fired in the same transaction as
the step it takes, and a step no longer allowed (the case moved on) is simply skipped.

* DEEMED_ACCEPTANCE: no notice of missing materials within 3 working days of receipt
  ⇒ the case counts as accepted from the day it was received.
* SUPPLEMENT_DEADLINE: the 补正 deadline passed ⇒ CLOSED_UNSUPPLEMENTED.
* ARCHIVE_DUE: a delivered case not archived within 1 working day is flagged."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from levels.calendar.workdays import WorkCalendar
from levels.cases.enums import CaseStatus, TimerKind
from levels.cases.machine import TRANSITIONS, Step
from levels.cases.models import Case, CaseTimer
from levels.cases.service import SYSTEM, StepInput, record_event, take_step

STEPS: dict[TimerKind, Step] = {
    TimerKind.DEEMED_ACCEPTANCE: Step.DEEM_ACCEPTED,
    TimerKind.SUPPLEMENT_DEADLINE: Step.CLOSE_UNSUPPLEMENTED,
}


async def fire_due_timers(
    sessions: async_sessionmaker[AsyncSession],
    *,
    now: dt.datetime,
    calendar: Callable[[AsyncSession], Awaitable[WorkCalendar]],
    limit: int = 200,
) -> int:
    """Fire the timers of one node that are due at ``now``; returns how many fired.
    Several workers may run at once: each timer is claimed with a row lock
    (``SKIP LOCKED`` on PostgreSQL)."""
    async with sessions() as session:
        due = (
            await session.scalars(
                select(CaseTimer.id)
                .where(
                    CaseTimer.fired_at.is_(None),
                    CaseTimer.cancelled_at.is_(None),
                    CaseTimer.due_at <= now,
                )
                .order_by(CaseTimer.due_at, CaseTimer.id)
                .limit(limit)
            )
        ).all()
    fired = 0
    for timer_id in due:
        async with sessions.begin() as session:
            timer = await session.scalar(
                select(CaseTimer)
                .where(CaseTimer.id == timer_id, CaseTimer.fired_at.is_(None))
                .with_for_update(skip_locked=True)
            )
            if timer is None or timer.cancelled_at is not None:
                continue
            timer.fired_at = now
            fired += 1
            case = await session.get(Case, timer.case_number)
            if case is None:
                continue
            step = STEPS.get(timer.kind)
            if step is not None and case.status in TRANSITIONS[step][0]:
                await take_step(
                    case.number,
                    step,
                    StepInput(detail={"timer": timer.kind.value}),
                    session=session,
                    actor=SYSTEM,
                    now=now,
                    calendar=await calendar(session),
                )
            elif timer.kind is TimerKind.ARCHIVE_DUE and case.status is CaseStatus.DELIVERED:
                await record_event(
                    session,
                    case,
                    SYSTEM,
                    "ARCHIVE_OVERDUE",
                    case.status,
                    now,
                    {"timer": timer.kind.value},
                )
    return fired
