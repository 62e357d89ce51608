"""Deadlines as rows (``case_timers``), fired by a worker: a restart never forgets one,
and firing twice changes nothing — a timer is marked fired in the same transaction as
the step it takes, and a step no longer allowed (the case moved on) is simply skipped.

* DEEMED_ACCEPTANCE: no notice of missing materials within 3 working days of receipt
  ⇒ the case counts as accepted from the day it was received.
* SUPPLEMENT_DEADLINE: the 补正 deadline passed ⇒ CLOSED_UNSUPPLEMENTED.
* PUSH_ACCEPTANCE: a case pushed from a comprehensive window (一窗受理) that its
  department has not taken up within 2 working days is flagged (``push_overdue``).
* ARCHIVE_DUE: a delivered case not archived within 1 working day is flagged.

``issue_cards`` is the electronic supervision (电子监察) of running clocks: each case
whose clock has turned YELLOW or RED gets that card once (``supervision_cards``, with an
audit event), however often the worker passes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from levels.calendar.workdays import WorkCalendar
from levels.cases.enums import CardColor, CaseStatus, ClockState, TimerKind
from levels.cases.machine import TRANSITIONS, Step
from levels.cases.models import Case, CaseTimer, SupervisionCard
from levels.cases.service import (
    SYSTEM,
    StepInput,
    china_date,
    clock_state,
    load_case_for_update,
    record_event,
    take_step,
)
from levels.common.claims import claim, insert_once

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
    on_fired: Callable[[str], Awaitable[None]] | None = None,
) -> int:
    """Fire the timers of one node that are due at ``now``; returns how many fired.
    Several workers may run at once: each timer is claimed with a row lock
    (``SKIP LOCKED`` on PostgreSQL). ``on_fired(case_number)`` runs after each
    committed firing (to tell subscribers)."""
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
            pending = (CaseTimer.fired_at.is_(None), CaseTimer.cancelled_at.is_(None))
            won = await claim(
                session,
                update(CaseTimer).where(CaseTimer.id == timer_id, *pending).values(fired_at=now),
            )
            if not won:  # another pass fired it, or it was cancelled, meanwhile
                continue
            fired += 1
            changed = timer.case_number
            case = await session.get(Case, changed)
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
            elif timer.kind is TimerKind.PUSH_ACCEPTANCE and case.status is CaseStatus.SUBMITTED:
                case.push_overdue = True
                case.updated_at = now
                await session.flush()
                await record_event(
                    session,
                    case,
                    SYSTEM,
                    "PUSH_OVERDUE",
                    case.status,
                    now,
                    {"timer": timer.kind.value, "department": case.department_id},
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
        if on_fired is not None:
            await on_fired(changed)
    return fired


RUNNING = (CaseStatus.ACCEPTED, CaseStatus.UNDER_REVIEW)
_CARD_OF = {
    ClockState.YELLOW: (CardColor.YELLOW,),
    ClockState.RED: (CardColor.YELLOW, CardColor.RED),
}


def _without(color: CardColor) -> Any:
    return ~exists().where(
        SupervisionCard.case_number == Case.number, SupervisionCard.color == color
    )


async def issue_cards(
    sessions: async_sessionmaker[AsyncSession],
    *,
    now: dt.datetime,
    limit: int = 500,
    on_fired: Callable[[str], Awaitable[None]] | None = None,
) -> int:
    """Give every running case of one node whose clock is YELLOW or RED the cards it
    has not had yet (a red case that skipped yellow between two passes gets both);
    returns how many cards were issued."""
    today = china_date(now)
    async with sessions() as session:
        due = (
            await session.scalars(
                select(Case.number)
                .where(
                    Case.status.in_(RUNNING),
                    or_(Case.yellow_on <= today, Case.due_on < today),
                    or_(_without(CardColor.YELLOW), Case.due_on < today),
                    or_(_without(CardColor.RED), Case.due_on >= today),
                )
                .order_by(Case.number)
                .limit(limit)
            )
        ).all()
    issued = 0
    for number in due:
        async with sessions.begin() as session:
            case = await load_case_for_update(number, session=session)
            state = clock_state(case, today)
            had = set(
                (
                    await session.scalars(
                        select(SupervisionCard.color).where(SupervisionCard.case_number == number)
                    )
                ).all()
            )
            new = []
            for color in (c for c in _CARD_OF.get(state, ()) if c not in had):
                assert case.due_on is not None
                # another pass may have issued it since this one read: once per colour
                if not await insert_once(
                    session,
                    SupervisionCard,
                    case_number=number,
                    color=color,
                    issued_at=now,
                    due_on=case.due_on,
                    org_code=case.org_code,
                    division_code=case.division_code,
                    department_id=case.department_id,
                ):
                    continue
                new.append(color)
                await record_event(
                    session,
                    case,
                    SYSTEM,
                    f"{color.value}_CARD",
                    case.status,
                    now,
                    {"dueOn": case.due_on.isoformat()},
                )
            issued += len(new)
        if new and on_fired is not None:
            await on_fired(number)
    return issued
