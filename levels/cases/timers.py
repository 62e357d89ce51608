"""Deadlines as rows (``case_timers``), fired by a worker: a restart never forgets one,
and firing twice changes nothing — a timer is marked fired in the same transaction as
the step it takes, and a step no longer allowed (the case moved on) is simply skipped.

* DEEMED_ACCEPTANCE: no notice of missing materials within 3 working days of receipt
  ⇒ the case counts as accepted from the day it was received.
* SUPPLEMENT_DEADLINE: the 补正 deadline passed ⇒ CLOSED_UNSUPPLEMENTED.
* PUSH_ACCEPTANCE: a case pushed from a comprehensive window (一窗受理) that its
  department has not taken up within 2 working days is flagged (``push_overdue``).
* ARCHIVE_DUE: a delivered case not archived within 1 working day is flagged
  (``archive_overdue``, seed 001 归档).
* PROCEDURE_WARNING / PROCEDURE_DUE, PRE_REVIEW_WARNING / PRE_REVIEW_DUE: a special
  procedure's own limit and an online application's 2-day pre-review give the case
  cards against those clocks (``levels/cases/deadline_cards.py``).

``issue_cards`` is the electronic supervision (电子监察) of running clocks: each case
whose clock — its handling clock, or its referral deadline (转报时限) while it waits
below its deciding level — has turned YELLOW or RED gets that card once
(``supervision_cards``, with an audit event), however often the worker passes.

What a timer does, and which cards a clock has earned, is written once, in
``levels/cases/due.py``: a write to a case applies the same rules to that case first,
so a deadline holds whether or not a pass has run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from levels.cases import locks
from levels.cases.due import Calendar, fire_timer, issue_case_cards, pending
from levels.cases.enums import CardClock, CardColor, CaseStatus
from levels.cases.models import Case, CaseTimer, SupervisionCard
from levels.cases.service import china_date, load_case_for_update


async def fire_due_timers(
    sessions: async_sessionmaker[AsyncSession],
    *,
    now: dt.datetime,
    calendar: Calendar,
    limit: int = 200,
    on_fired: Callable[[str], Awaitable[None]] | None = None,
) -> int:
    """Fire the timers of one node that are due at ``now``; returns how many fired.
    Several workers may run at once: each timer is claimed with a row lock
    (``SKIP LOCKED`` on PostgreSQL). ``on_fired(case_number)`` runs after each
    committed firing (to tell subscribers)."""
    async with sessions() as session:
        due = (
            await session.execute(
                select(CaseTimer.id, CaseTimer.case_number)
                .where(*pending(now))
                .order_by(CaseTimer.due_at, CaseTimer.id)
                .limit(limit)
            )
        ).all()
    fired = 0
    for timer_id, number in due:
        async with sessions.begin() as session:
            # the case before its timer, the order a write locks them in (its first
            # statement locks the case, then ``apply_due`` its timers): one order, so a
            # write and a pass never deadlock. A case a write holds is passed over: the
            # write fires its due timers itself, and the next pass finds the rest.
            if not await lock_case(session, number):
                continue
            timer = await session.scalar(
                select(CaseTimer)
                .where(CaseTimer.id == timer_id, CaseTimer.fired_at.is_(None))
                .with_for_update(skip_locked=True)
            )
            if timer is None or timer.cancelled_at is not None:
                continue
            # a write to its case may have fired it meanwhile (levels/cases/due.py)
            if not await fire_timer(session, timer, now=now, calendar=calendar):
                continue
            fired += 1
            changed = timer.case_number
        if on_fired is not None:
            await on_fired(changed)
    return fired


async def lock_case(session: AsyncSession, number: str) -> bool:
    """Lock case ``number`` for the caller's transaction unless someone holds it (``SKIP
    LOCKED`` on PostgreSQL); True when locked (the rules asking for it locked then find
    it held, ``locks.py``), False when held elsewhere or gone."""
    case = await session.scalar(
        select(Case).where(Case.number == number).with_for_update(skip_locked=True)
    )
    if case is None:
        return False
    locks.mark(session, number)
    return True


RUNNING = (CaseStatus.ACCEPTED, CaseStatus.UNDER_REVIEW)


def _without(color: CardColor, clock: CardClock = CardClock.HANDLING) -> Any:
    return ~exists().where(
        SupervisionCard.case_number == Case.number,
        SupervisionCard.clock == clock,
        SupervisionCard.color == color,
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
    handling = and_(
        Case.status.in_(RUNNING),
        or_(Case.yellow_on <= today, Case.due_on < today),
        or_(_without(CardColor.YELLOW), Case.due_on < today),
        or_(_without(CardColor.RED), Case.due_on >= today),
    )
    # 转报时限: a case waiting below its deciding level (levels/cases/referral_clock.py)
    referral = and_(
        Case.status == CaseStatus.SUBMITTED,
        or_(Case.referral_yellow_on <= today, Case.referral_due_on < today),
        or_(_without(CardColor.YELLOW, CardClock.REFERRAL), Case.referral_due_on < today),
        or_(_without(CardColor.RED, CardClock.REFERRAL), Case.referral_due_on >= today),
    )
    async with sessions() as session:
        due = (
            await session.scalars(
                select(Case.number)
                .where(or_(handling, referral))
                .order_by(Case.number)
                .limit(limit)
            )
        ).all()
    issued = 0
    for number in due:
        async with sessions.begin() as session:
            case = await load_case_for_update(number, session=session)
            new = await issue_case_cards(session, case, now=now)
            issued += len(new)
        if new and on_fired is not None:
            await on_fired(number)
    return issued
