"""Electronic supervision (电子监察) of the clocks a case carries besides its own: a
special procedure's limit (特殊环节, 004 "纳入电子监察系统管理") and an online
application's pre-review (网上预审, 2 working days). Each has two timer rows — a
warning once most of its time is used, and its due day passed — and firing one gives
the case a card against that clock (``SupervisionCard.clock``; a procedure's card
names its row in ``clock_ref``), once per clock and colour, with its audit event. Past
due, the procedure (``CaseSuspension.overdue``) or the case (``prereview_overdue``)
is flagged for good. A timer whose clock stopped meanwhile (the procedure ended, the
pre-review was given, the case taken up) does nothing.

The worker's pass fires these timers like any other, and a write to the case fires
its own first (``levels/cases/due.py``): the card is there whether or not a pass ran."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from levels.cases import prereview, procedures
from levels.cases.enums import CardClock, CardColor, CaseStatus, TimerKind
from levels.cases.models import Case, CaseTimer, SupervisionCard
from levels.cases.service import SYSTEM, record_event
from levels.common.claims import insert_once

KINDS = frozenset({*procedures.TIMERS, *prereview.TIMERS})
# the cards a timer earns (past due without a warning first: both)
EARNS = {
    TimerKind.PROCEDURE_WARNING: (CardColor.YELLOW,),
    TimerKind.PROCEDURE_DUE: (CardColor.YELLOW, CardColor.RED),
    TimerKind.PRE_REVIEW_WARNING: (CardColor.YELLOW,),
    TimerKind.PRE_REVIEW_DUE: (CardColor.YELLOW, CardColor.RED),
}


async def issue_card(
    session: AsyncSession,
    case: Case,
    color: CardColor,
    *,
    clock: CardClock,
    due_on: dt.date,
    now: dt.datetime,
    clock_ref: int = 0,
    detail: dict[str, object] | None = None,
) -> bool:
    """Give ``case`` a ``color`` card against ``clock`` unless it has it; audited as
    ``<color>_CARD`` (the running clock's) or ``<clock>_<color>_CARD``. True when issued."""
    issued = await insert_once(
        session,
        SupervisionCard,
        case_number=case.number,
        color=color,
        clock=clock,
        clock_ref=clock_ref,
        issued_at=now,
        due_on=due_on,
        org_code=case.org_code,
        division_code=case.division_code,
        department_id=case.department_id,
    )
    if issued:
        # the case's running clock (handling, or 转报时限 below the decider) earns the
        # plain <color>_CARD; a procedure's or a pre-review's is named by its clock
        own = clock in (CardClock.HANDLING, CardClock.REFERRAL)
        prefix = "" if own else f"{clock.value}_"
        await record_event(
            session,
            case,
            SYSTEM,
            f"{prefix}{color.value}_CARD",
            case.status,
            now,
            {"dueOn": due_on.isoformat(), "clock": clock.value, **(detail or {})},
        )
    return issued


async def fire(session: AsyncSession, case: Case, timer: CaseTimer, *, now: dt.datetime) -> None:
    """What a procedure or pre-review timer does to ``case`` (locked by the caller)."""
    earned = EARNS[timer.kind]
    if timer.kind in procedures.TIMERS:
        row = await procedures.running(session, case.number)
        if row is None or row.due_on is None or case.status is not CaseStatus.SPECIAL_PROCEDURE:
            return
        if CardColor.RED in earned:
            row.overdue = True
        for color in earned:
            await issue_card(
                session,
                case,
                color,
                clock=CardClock.SPECIAL_PROCEDURE,
                clock_ref=row.id,
                due_on=row.due_on,
                now=now,
                detail={"procedure": row.procedure},
            )
        return
    if not prereview.waiting(case) or case.prereview_due_on is None:
        return
    if CardColor.RED in earned and not case.prereview_overdue:
        case.prereview_overdue = True
        case.updated_at = now
        await session.flush()
    for color in earned:
        await issue_card(
            session, case, color, clock=CardClock.PRE_REVIEW, due_on=case.prereview_due_on, now=now
        )
