"""Due timers applied on write: a deadline holds from the instant it passes, not from
the timer worker's next pass (which may be 30 s away, off, or failing).

Each rule has one home here, used by both sides: ``fire_timer`` is what a due timer
does to its case (the worker's pass calls it for every due timer; a write calls it for
the timers of its own case), and ``issue_case_cards`` gives a running case the yellow
and red cards its clock has earned (电子监察). A write to a case first calls
``apply_due`` in its own transaction — the case then is what the worker would have
made of it by ``now`` — and only then checks its step; ``refuse_overtaken`` names the
deadline that made the step impossible:

* DEEMED_ACCEPTED: a notice of supplement (一次性告知), an acceptance or a refusal after
  the 3 working days of receipt: the case already counts as accepted on receipt.
* SUPPLEMENT_DEADLINE_PASSED: 补正 after the deadline of the notice: the case is
  CLOSED_UNSUPPLEMENTED.
* TOLERANCE_DEADLINE_PASSED: a step (an approval, a hand-in) after the day a tolerated
  material was promised for: the applicant was told, and the case TERMINATED as the
  commitment stated (``levels/cases/tolerance.py``).

The cards follow whichever clock runs: the handling clock of an accepted case, or the
referral deadline (转报时限) of a case waiting below its deciding level.

A write refused that way still keeps what the timer did (the caller commits it): the
case really was accepted, or closed, at that instant."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from sqlalchemy import ColumnElement, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from levels.calendar.workdays import WorkCalendar
from levels.cases import deadline_cards, referral_clock, tolerance
from levels.cases.enums import CardClock, CardColor, CaseStatus, ClockState, TimerKind
from levels.cases.errors import CaseErrorCode
from levels.cases.machine import OPEN_STATUSES, TRANSITIONS, Step
from levels.cases.models import Case, CaseTimer, SupervisionCard
from levels.cases.service import (
    SYSTEM,
    StepInput,
    china_date,
    clock_state,
    load_case_for_update,
    record_event,
)
from levels.cases.steps import TAKE_UP_STEPS, take_step
from levels.common.claims import claim
from levels.common.errors import DomainError

Calendar = Callable[[AsyncSession], Awaitable[WorkCalendar]]

STEPS: dict[TimerKind, Step] = {
    TimerKind.DEEMED_ACCEPTANCE: Step.DEEM_ACCEPTED,
    TimerKind.SUPPLEMENT_DEADLINE: Step.CLOSE_UNSUPPLEMENTED,
    TimerKind.TOLERANCE_LAPSE: Step.LAPSE_TOLERANCE,
}
# the cards a clock of that colour has earned (a red case that skipped yellow gets both)
CARDS_OF = {
    ClockState.YELLOW: (CardColor.YELLOW,),
    ClockState.RED: (CardColor.YELLOW, CardColor.RED),
}


def pending(now: dt.datetime) -> tuple[ColumnElement[bool], ...]:
    """The conditions of a timer that is due at ``now`` and has not fired."""
    return (
        CaseTimer.fired_at.is_(None),
        CaseTimer.cancelled_at.is_(None),
        CaseTimer.due_at <= now,
    )


async def fire_timer(
    session: AsyncSession, timer: CaseTimer, *, now: dt.datetime, calendar: Calendar
) -> bool:
    """Fire one due timer in the caller's transaction: mark it fired (a conditional
    UPDATE, so two callers never both fire it) and take its effect on the case — the
    step it takes, or the flag it raises — when the case is still where the timer
    expects it. False when another caller fired or cancelled it first."""
    still = (CaseTimer.fired_at.is_(None), CaseTimer.cancelled_at.is_(None))
    won = await claim(
        session, update(CaseTimer).where(CaseTimer.id == timer.id, *still).values(fired_at=now)
    )
    if not won:
        return False
    case = await session.get(Case, timer.case_number)
    if case is None:
        return True
    if timer.kind in tolerance.TIMERS and not await _tolerance_binds(session, case):
        return True  # handed in, waived, or the case is no longer open
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
    elif timer.kind is TimerKind.TOLERANCE_NOTICE:
        await _tell_tolerance_passed(session, case, now)
    elif timer.kind in deadline_cards.KINDS:
        await deadline_cards.fire(session, case, timer, now=now)
    elif timer.kind is TimerKind.ARCHIVE_DUE and case.status is CaseStatus.DELIVERED:
        case.archive_overdue = True
        case.updated_at = now
        await session.flush()
        await record_event(
            session, case, SYSTEM, "ARCHIVE_OVERDUE", case.status, now, {"timer": timer.kind.value}
        )
    return True


async def _tolerance_binds(session: AsyncSession, case: Case) -> bool:
    return case.status in OPEN_STATUSES and await tolerance.binding(session, case) is not None


async def _tell_tolerance_passed(session: AsyncSession, case: Case, now: dt.datetime) -> None:
    """容缺承诺: the promised day has passed with the material outstanding — the
    applicant is told (on the case's timeline, which their subscription follows), with
    the consequence the commitment states."""
    held = await tolerance.binding(session, case)
    assert held is not None
    row, names = held
    row.noticed_at = now
    case.updated_at = now
    await session.flush()
    await record_event(
        session,
        case,
        SYSTEM,
        tolerance.NOTICE_ACTION,
        case.status,
        now,
        {
            "dueOn": row.due_on.isoformat(),
            "outstanding": names,
            "consequence": row.consequence.value,
            "statement": row.statement,
        },
    )


def running_clock(case: Case, today: dt.date) -> tuple[CardClock, ClockState, dt.date | None]:
    """The clock that runs on ``case``: its referral deadline while it waits below the
    deciding level (``levels/cases/referral_clock.py``), else its handling clock; with
    its colour on ``today`` and the due date it counts to."""
    if referral_clock.running(case):
        return CardClock.REFERRAL, referral_clock.state(case, today), case.referral_due_on
    return CardClock.HANDLING, clock_state(case, today), case.due_on


async def issue_case_cards(
    session: AsyncSession, case: Case, *, now: dt.datetime
) -> list[CardColor]:
    """The cards the running clock of ``case`` (locked by the caller) has earned by
    ``now`` and it does not have yet, each issued once with its audit event."""
    clock, state, due_on = running_clock(case, china_date(now))
    earned = CARDS_OF.get(state, ())
    if not earned:
        return []
    had = set(
        (
            await session.scalars(
                select(SupervisionCard.color).where(
                    SupervisionCard.case_number == case.number,
                    SupervisionCard.clock == clock,
                )
            )
        ).all()
    )
    new: list[CardColor] = []
    for color in (c for c in earned if c not in had):
        assert due_on is not None
        # another pass may have issued it since this one read: once per colour
        if await deadline_cards.issue_card(
            session, case, color, clock=clock, due_on=due_on, now=now
        ):
            new.append(color)
    return new


# a case's due timers, locked (oldest first): built once, each change binds its case
# and its moment
_DUE = (
    select(CaseTimer)
    .where(
        CaseTimer.case_number == bindparam("number"),
        CaseTimer.fired_at.is_(None),
        CaseTimer.cancelled_at.is_(None),
        CaseTimer.due_at <= bindparam("now", type_=CaseTimer.__table__.c.due_at.type),
    )
    .order_by(CaseTimer.due_at, CaseTimer.id)
    .with_for_update()
)


async def apply_due(
    session: AsyncSession, number: str, *, now: dt.datetime, calendar: Calendar
) -> bool:
    """Do to case ``number``, in the caller's transaction, what the worker's pass would
    have done by ``now``: fire its due timers (oldest first), then issue the cards its
    clock has earned. True when anything changed (the caller keeps it even when the
    write that follows is refused). The caller holds the case locked (its first
    statement, ``levels/node/steps.py: read_locked``) and the timers are locked after
    it, the order the pass locks them in (``timers.fire_due_timers``), so a write and a
    pass never deadlock."""
    due = (await session.scalars(_DUE, {"number": number, "now": now})).all()
    changed = False
    for timer in due:
        changed = await fire_timer(session, timer, now=now, calendar=calendar) or changed
    case = await load_case_for_update(number, session=session)
    return bool(await issue_case_cards(session, case, now=now)) or changed


# the refusals that name a deadline: their answer shows the case as the deadline left it
OVERTAKEN = frozenset(
    {
        CaseErrorCode.DEEMED_ACCEPTED,
        CaseErrorCode.SUPPLEMENT_DEADLINE_PASSED,
        CaseErrorCode.TOLERANCE_DEADLINE_PASSED,
    }
)


async def settle_refused(session: AsyncSession, error: DomainError, *, moved: bool) -> bool:
    """End the transaction of a step refused with ``error``: what the due timers did
    first is committed (``moved``), else nothing is kept. True when the refusal is
    answered with the case as it now stands — a timer moved it, or the refusal names
    a deadline (``OVERTAKEN``); false when the refusal stands alone."""
    if moved:
        await session.commit()
    else:
        await session.rollback()
    return moved or error.code in OVERTAKEN


def refuse_overtaken(case: Case, step: Step) -> None:
    """Refuse, with the code of the deadline that passed, a step that deadline made
    impossible; any other step goes on to the usual checks."""
    if case.status in TRANSITIONS[step][0]:
        return
    if step in TAKE_UP_STEPS and case.deemed_accepted:
        raise DomainError(
            CaseErrorCode.DEEMED_ACCEPTED,
            field=["input", "number"],
            detail=case.accepted_on.isoformat() if case.accepted_on else None,
        )
    if case.status is CaseStatus.TERMINATED and case.tolerance_deadline is not None:
        raise DomainError(
            CaseErrorCode.TOLERANCE_DEADLINE_PASSED,
            field=["input", "number"],
            detail=case.tolerance_deadline.isoformat(),
        )
    if step is Step.SUPPLEMENT and case.status is CaseStatus.CLOSED_UNSUPPLEMENTED:
        deadline = case.supplement_deadline
        raise DomainError(
            CaseErrorCode.SUPPLEMENT_DEADLINE_PASSED,
            field=["input", "number"],
            detail=deadline.isoformat() if deadline else None,
        )
