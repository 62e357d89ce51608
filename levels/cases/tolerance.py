"""容缺受理 (001 "对符合容缺受理的，综合受理窗口应予以收件，并告知申请人在规定时间内将
容缺材料补齐补正，说明逾期的后果，同时要求申请人填写容缺受理承诺").

* At receipt the commitment is recorded (``CaseTolerance``): which materials follow,
  by when, and the consequence stated to the applicant — the one the matter states
  (``MatterImplementation.tolerance_consequence``), else the one the window gives,
  else 终止办理.
* The material is handed in after acceptance (``levels/cases/handin.py``).
* No approval while a promised material is outstanding (``TOLERANCE_OUTSTANDING``),
  unless a director overrode the hold with a reason (recorded and audited; the
  promise is then waived and its timers cancelled).
* The deadline acts through two timer rows due the instant the promised day has
  passed: TOLERANCE_NOTICE tells the applicant (an event on the case's timeline, and
  ``noticedAt``), then TOLERANCE_LAPSE takes the stated consequence
  (``Step.LAPSE_TOLERANCE``: the case is TERMINATED; under REVOKE_ACCEPTANCE its
  acceptance is revoked too, so it never counts as accepted). Both also fire on the
  write path (``levels/cases/due.py``): a hand-in after the deadline finds the case
  already terminated and is refused with TOLERANCE_DEADLINE_PASSED."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.cases.enums import MaterialState, TimerKind, ToleranceConsequence
from levels.cases.errors import CaseErrorCode
from levels.cases.models import Case, CaseMaterial, CaseTimer, CaseTolerance
from levels.common.errors import DomainError

DEFAULT_CONSEQUENCE = ToleranceConsequence.TERMINATE
TIMERS = (TimerKind.TOLERANCE_NOTICE, TimerKind.TOLERANCE_LAPSE)
NOTICE_ACTION = "TOLERANCE_NOTICE"
HAND_IN_ACTION = "HAND_IN_TOLERATED"
OVERRIDE_ACTION = "OVERRIDE_TOLERANCE"
_WORDS = {
    ToleranceConsequence.TERMINATE: "终止办理",
    ToleranceConsequence.REVOKE_ACCEPTANCE: "撤销受理，申请视为未受理",
}


def consequence_of(
    stated_by_matter: str | None, given: ToleranceConsequence | None
) -> ToleranceConsequence:
    """The consequence the commitment states: the matter's, when it states one (the
    window may not set another), else the one the window gives, else 终止办理."""
    if stated_by_matter:
        fixed = ToleranceConsequence(stated_by_matter)
        if given is not None and given is not fixed:
            raise DomainError(
                CaseErrorCode.TOLERANCE_CONSEQUENCE_FIXED,
                field=["input", "toleranceConsequence"],
                detail=fixed.value,
            )
        return fixed
    return given or DEFAULT_CONSEQUENCE


def statement(names: Sequence[str], due_on: dt.date, consequence: ToleranceConsequence) -> str:
    """The commitment as the applicant signs it."""
    return (
        f"本人承诺于{due_on.isoformat()}前补交容缺材料：{'、'.join(names)}。"
        f"逾期未补交的，{_WORDS[consequence]}。"
    )


def _timers(case_number: str, lapse_at: dt.datetime) -> list[CaseTimer]:
    # the notice first: same instant, lower id, so it fires before the lapse
    return [CaseTimer(case_number=case_number, kind=k, due_at=lapse_at) for k in TIMERS]


async def commit(
    session: AsyncSession,
    case: Case,
    materials: Sequence[CaseMaterial],
    consequence: ToleranceConsequence,
    *,
    now: dt.datetime,
    lapse_at: dt.datetime,
) -> CaseTolerance | None:
    """Record the commitment of a case just received, and its two timers; None when
    nothing was tolerated (every material given, or filled from the library)."""
    names = [m.name for m in materials if m.state is MaterialState.TOLERATED]
    if not names or case.tolerance_deadline is None:
        return None
    due_on = case.tolerance_deadline
    row = CaseTolerance(
        case_number=case.number,
        materials=names,
        due_on=due_on,
        consequence=consequence,
        statement=statement(names, due_on, consequence),
        committed_at=now,
    )
    session.add(row)
    session.add_all(_timers(case.number, lapse_at))
    return row


def to_payload(row: CaseTolerance | None) -> dict[str, Any] | None:
    """The commitment as it travels with a referred case (转报)."""
    if row is None:
        return None
    return {
        "materials": list(row.materials),
        "dueOn": row.due_on.isoformat(),
        "consequence": row.consequence.value,
        "statement": row.statement,
        "committedAt": row.committed_at.isoformat(),
        "handedInAt": row.handed_in_at.isoformat() if row.handed_in_at else None,
    }


async def arrive(
    session: AsyncSession, case: Case, given: dict[str, Any] | None, *, lapse_at: dt.datetime
) -> None:
    """A referred case arrives with its commitment: the promise, and its timers, hold
    at the level that holds the case now."""
    if not given:
        return
    handed_in = given.get("handedInAt")
    session.add(
        CaseTolerance(
            case_number=case.number,
            materials=list(given["materials"]),
            due_on=dt.date.fromisoformat(given["dueOn"]),
            consequence=ToleranceConsequence(given["consequence"]),
            statement=given["statement"],
            committed_at=dt.datetime.fromisoformat(given["committedAt"]),
            handed_in_at=dt.datetime.fromisoformat(handed_in) if handed_in else None,
        )
    )
    if handed_in is None:
        session.add_all(_timers(case.number, lapse_at))


async def commitments_by_case(
    numbers: Sequence[str], *, session: AsyncSession
) -> Sequence[CaseTolerance]:
    return (
        await session.scalars(select(CaseTolerance).where(CaseTolerance.case_number.in_(numbers)))
    ).all()


async def commitment(session: AsyncSession, case: Case) -> CaseTolerance | None:
    return await session.get(CaseTolerance, case.number, populate_existing=True)


async def outstanding(session: AsyncSession, case: Case) -> list[CaseMaterial]:
    """The promised materials not handed in yet (still TOLERATED)."""
    return list(
        (
            await session.scalars(
                select(CaseMaterial)
                .where(
                    CaseMaterial.case_number == case.number,
                    CaseMaterial.state == MaterialState.TOLERATED,
                )
                .order_by(CaseMaterial.id)
            )
        ).all()
    )


async def binding(session: AsyncSession, case: Case) -> tuple[CaseTolerance, list[str]] | None:
    """The commitment and what it still waits for, while it binds: a material is
    outstanding and no director overrode the hold. None otherwise."""
    row = await commitment(session, case)
    if row is None or row.overridden_at is not None:
        return None
    names = [m.name for m in await outstanding(session, case)]
    return (row, names) if names else None


async def hold_approval(session: AsyncSession, case: Case) -> None:
    """No approval while a promised material is outstanding, unless overridden."""
    held = await binding(session, case)
    if held is not None:
        raise DomainError(
            CaseErrorCode.TOLERANCE_OUTSTANDING,
            field=["input", "decision"],
            detail="、".join(held[1]),
        )


async def lapse(session: AsyncSession, case: Case, now: dt.datetime) -> dict[str, Any]:
    """The consequence stated takes effect (``Step.LAPSE_TOLERANCE``, from the timer):
    the case is terminated; under REVOKE_ACCEPTANCE its acceptance goes too. What the
    audit trail keeps of it."""
    held = await binding(session, case)
    if held is None:  # kept, or waived: the timer does not take the step then
        raise DomainError(CaseErrorCode.NO_TOLERANCE_OUTSTANDING, field=["input", "number"])
    row, names = held
    row.lapsed_at = now
    if row.consequence is ToleranceConsequence.REVOKE_ACCEPTANCE:
        case.accepted_on = None
        case.deemed_accepted = False
        case.due_on = None
        case.yellow_on = None
    return {
        "consequence": row.consequence.value,
        "dueOn": row.due_on.isoformat(),
        "outstanding": names,
    }


async def cancel_timers(session: AsyncSession, case: Case, now: dt.datetime) -> None:
    """The promise is kept (or waived): its deadline no longer acts."""
    for t in await session.scalars(
        select(CaseTimer).where(
            CaseTimer.case_number == case.number,
            CaseTimer.kind.in_(TIMERS),
            CaseTimer.fired_at.is_(None),
            CaseTimer.cancelled_at.is_(None),
        )
    ):
        t.cancelled_at = now
