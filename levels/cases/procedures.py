"""特殊环节 (000 "出具特殊环节通知书…写明特殊环节的名称、依据、时限…特殊环节时限原则上不超过
事项承诺办理时限"; 004 "特殊环节…纳入电子监察系统管理"): a hearing, inspection, testing,
appraisal, expert review, public notice, tendering or auction the guide lists for the
matter stops the case clock (its time is not counted, 行政许可法 第四十五条) but runs on a
clock of its own.

* Its limit is the guide's for that kind unless the reviewer states another; a limit
  longer than the matter's promised limit is refused unless an exception reason is
  recorded with it (PROCEDURE_LIMIT_EXCEEDS_PROMISE).
* It is due ``limit`` working days after the day it starts (that day is day 0, as for
  the case clock); its yellow card falls due once ``YELLOW_SHARE`` of the limit is used,
  its red card the day after it is due — each a timer row (PROCEDURE_WARNING,
  PROCEDURE_DUE), fired by the worker's pass or by the next write to the case, which
  issues the card (``levels/cases/deadline_cards.py``). A procedure that ran past its
  limit stays ``overdue`` once it ends.
* Ending it when none is running is refused with NO_PROCEDURE_RUNNING (ending twice)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.calendar.workdays import WorkCalendar
from levels.cases.clocks import YELLOW_SHARE, deadline_state
from levels.cases.enums import CaseStatus, ClockState, SuspensionKind, TimerKind
from levels.cases.errors import CaseErrorCode
from levels.cases.machine import Step
from levels.cases.models import Case, CaseSuspension, CaseTimer
from levels.common.clock import CHINA
from levels.common.enums import SpecialProcedureKind
from levels.common.errors import DomainError
from levels.common.models import MatterImplementation

TIMERS = (TimerKind.PROCEDURE_WARNING, TimerKind.PROCEDURE_DUE)
BASIS_LENGTH = 256
REASON_LENGTH = 2000


def midnight(day: dt.date) -> dt.datetime:
    """The instant ``day`` begins, in China."""
    return dt.datetime.combine(day, dt.time(), tzinfo=CHINA)


def _text(value: str | None, limit: int, field: str) -> str:
    text = (value or "").strip()
    if len(text) > limit:
        raise DomainError(CaseErrorCode.TEXT_TOO_LONG, field=["input", field])
    return text


def _guide_entry(impl: MatterImplementation, kind: SpecialProcedureKind | None) -> dict[str, Any]:
    for p in impl.special_procedures:
        if kind is not None and p["kind"] == kind.value:
            return dict(p)
    raise DomainError(CaseErrorCode.PROCEDURE_NOT_IN_GUIDE, field=["input", "kind"])


def refuse_out_of_turn(case: Case, step: Step) -> None:
    """Ending a procedure when none is running (ended already, or never begun) is
    refused by name, before the state machine's generic refusal."""
    if step is Step.FINISH_SPECIAL and case.status is not CaseStatus.SPECIAL_PROCEDURE:
        raise DomainError(CaseErrorCode.NO_PROCEDURE_RUNNING, field=["input", "number"])


def start(
    session: AsyncSession,
    case: Case,
    impl: MatterImplementation,
    *,
    kind: SpecialProcedureKind | None,
    basis: str | None,
    limit_days: int | None,
    exception_reason: str | None,
    today: dt.date,
    calendar: WorkCalendar,
) -> dict[str, Any]:
    """Begin a procedure of the guide on ``case`` today, with its own clock; what the
    audit trail keeps of it."""
    entry = _guide_entry(impl, kind)
    assert kind is not None
    limit = int(entry["timeLimitDays"]) if limit_days is None else limit_days
    if limit < 1:
        raise DomainError(CaseErrorCode.INVALID_DEADLINE, field=["input", "limitDays"])
    reason = _text(exception_reason, REASON_LENGTH, "exceptionReason")
    if limit > case.promised_limit_days and not reason:
        raise DomainError(
            CaseErrorCode.PROCEDURE_LIMIT_EXCEEDS_PROMISE,
            field=["input", "limitDays"],
            detail=f"{limit} > {case.promised_limit_days}",
        )
    stated = _text(basis, BASIS_LENGTH, "basis") or str(entry.get("basis") or "")
    due_on = calendar.add_working_days(today, limit)
    yellow_on = calendar.add_working_days(today, math.ceil(limit * YELLOW_SHARE))
    session.add(
        CaseSuspension(
            case_number=case.number,
            kind=SuspensionKind.SPECIAL_PROCEDURE,
            procedure=kind.value,
            basis=stated or None,
            limit_days=limit,
            started_on=today,
            due_on=due_on,
            yellow_on=yellow_on,
            exception_reason=reason or None,
            overdue=False,
        )
    )
    session.add_all(
        [
            CaseTimer(
                case_number=case.number,
                kind=TimerKind.PROCEDURE_WARNING,
                due_at=midnight(yellow_on),
            ),
            CaseTimer(
                case_number=case.number,
                kind=TimerKind.PROCEDURE_DUE,
                due_at=midnight(due_on + dt.timedelta(days=1)),
            ),
        ]
    )
    detail: dict[str, Any] = {
        "procedure": kind.value,
        "limitDays": limit,
        "dueOn": due_on.isoformat(),
    }
    if stated:
        detail["basis"] = stated
    if reason:
        detail["exceptionReason"] = reason
    return detail


async def running(session: AsyncSession, case_number: str) -> CaseSuspension | None:
    """The special procedure of the case that has not ended, if any."""
    return await session.scalar(
        select(CaseSuspension).where(
            CaseSuspension.case_number == case_number,
            CaseSuspension.kind == SuspensionKind.SPECIAL_PROCEDURE,
            CaseSuspension.ended_on.is_(None),
        )
    )


async def finish(
    session: AsyncSession, case: Case, *, today: dt.date, now: dt.datetime
) -> dict[str, Any]:
    """End the running procedure today; its timers are cancelled. Ended after its due
    day, it stays overdue."""
    row = await running(session, case.number)
    if row is None:
        raise DomainError(CaseErrorCode.NO_PROCEDURE_RUNNING, field=["input", "number"])
    row.ended_on = today
    if row.due_on is not None and today > row.due_on:
        row.overdue = True
    timers = await session.scalars(
        select(CaseTimer).where(
            CaseTimer.case_number == case.number,
            CaseTimer.kind.in_(TIMERS),
            CaseTimer.fired_at.is_(None),
            CaseTimer.cancelled_at.is_(None),
        )
    )
    for t in timers:
        t.cancelled_at = now
    return {"procedure": row.procedure, "overdue": row.overdue}


def procedure_state(row: CaseSuspension, today: dt.date) -> ClockState:
    """The colour of a procedure's own clock: STOPPED once it ended."""
    if row.ended_on is not None or row.due_on is None:
        return ClockState.STOPPED
    return deadline_state(row.due_on, row.yellow_on, today)


async def procedures_by_case(numbers: list[str], *, session: AsyncSession) -> list[CaseSuspension]:
    """The special procedures of these cases, oldest first."""
    return list(
        (
            await session.scalars(
                select(CaseSuspension)
                .where(
                    CaseSuspension.case_number.in_(numbers),
                    CaseSuspension.kind == SuspensionKind.SPECIAL_PROCEDURE,
                )
                .order_by(CaseSuspension.case_number, CaseSuspension.id)
            )
        ).all()
    )
