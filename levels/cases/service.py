"""The rules of handling a case (办件), as the seeds prescribe them. Functions take
``*, session`` (the holding node's, inside the caller's transaction), the acting
``Actor``, the hub's ``now`` and the node's working-day calendar; every step is written
together with its audit event, or not at all.

Who may take a step is decided before these functions run (``auth/policy.py``); here:
is the step allowed from the case's status, is the case at the actor's org, is the
input what the service guide allows — and the clocks.

Here: what every step shares (``Actor``, the audit event of a step, timers, the
optimistic lock, the clock) and ``decide_part``. Receiving a case is in ``intake.py``
(``submit_case``), taking its steps in ``steps.py`` (``take_step``), the DataLoaders'
batch reads in ``reads.py``."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.audit.chain import EventDraft, append
from levels.audit.models import AuditEvent
from levels.calendar.workdays import WorkCalendar
from levels.cases import locks
from levels.cases.clocks import YELLOW_SHARE, ClockReading, Suspension, deadline_state, read_clock
from levels.cases.enums import (
    CaseStatus,
    ClockState,
    Decision,
    RejectionReason,
    SuspensionKind,
    TimerKind,
)
from levels.cases.errors import CaseErrorCode
from levels.cases.machine import clock_running
from levels.cases.materials import MaterialDraft
from levels.cases.models import Case, CaseMaterial, CasePart, CaseSuspension, CaseTimer
from levels.common.clock import CHINA
from levels.common.enums import DeliveryMethod, SpecialProcedureKind
from levels.common.errors import DomainError
from levels.common.reads import ReadRow
from levels.evaluations import enums as evaluation_actions
from levels.licences import service as licences
from levels.windows import enums as window_actions

DEFAULT_SUPPLEMENT_DAYS = 5
# 容缺承诺: what is tolerated follows within the 20 working days an administrative
# licence must be decided in (行政许可法 第四十二条), counted from receipt
MAX_TOLERANCE_WORKING_DAYS = 20
# 一窗受理: the department takes up a case pushed from the front desk within this many
# working days, or the case is flagged
PUSH_ACCEPTANCE_DAYS = 2
# a read of a case by staff is audited under this action
READ_ACTION = "READ"
# audited with a case but not steps of it: staff reads, the transport's own troubles,
# what became of the licences it issued, its ratings and complaints (好差评, 投诉),
# the queue ticket that led to it
NOT_STEPS = (
    READ_ACTION,
    "MESSAGE_FAILED",
    "MESSAGE_RETRIED",
    *licences.ACTIONS,
    *evaluation_actions.AUDIT_ACTIONS,
    *window_actions.CASE_LINKED_ACTIONS,
)
# a department's decision on its part of a joint case (联办)
DECIDE_PART_ACTION = "DECIDE_PART"


@dataclass(frozen=True)
class Actor:
    """Who takes a step, as the audit trail records it."""

    id: str
    kind: str  # account kind, or SYSTEM for timers
    role: str | None = None
    channel: str | None = None
    org_code: str | None = None
    request_id: str | None = None
    department_id: str | None = None


SYSTEM = Actor(id="system", kind="SYSTEM", channel="SYSTEM")


def china_date(at: dt.datetime) -> dt.date:
    return at.astimezone(CHINA).date()


def start_of_day_after(day: dt.date) -> dt.datetime:
    """The instant a working-day deadline has passed: midnight after it, in China."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=CHINA)


def case_event(
    case: Case,
    actor: Actor,
    action: str,
    before: CaseStatus | None,
    detail: dict[str, Any] | None = None,
) -> EventDraft:
    """What ``actor`` did to ``case``, for the chain of the division that holds it."""
    return EventDraft(
        actor_id=actor.id, actor_kind=actor.kind, role=actor.role, channel=actor.channel,
        org_code=actor.org_code, request_id=actor.request_id, level=case.level.value,
        action=action, case_number=case.number, division_code=case.division_code,
        before=before.value if before else None, after=case.status.value, detail=detail or {},
    )  # fmt: skip


async def record_event(
    session: AsyncSession,
    case: Case,
    actor: Actor,
    action: str,
    before: CaseStatus | None,
    now: dt.datetime,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append what ``actor`` did to ``case`` to the holding division's audit chain, in
    the caller's transaction: a step, a staff read, a flag raised by a timer. A case
    the transaction holds locked has its pending UPDATE written with the event (on
    PostgreSQL in the append's statement: ``levels.audit.postgres``); one not locked
    is flushed before the head's lock, so a case is always locked before its head."""
    draft = case_event(case, actor, action, before, detail)
    row = case if locks.holds(session, case.number) else None
    return await append(draft, session=session, now=now, row=row)


def _timer(case: Case, kind: TimerKind, due_at: dt.datetime) -> CaseTimer:
    return CaseTimer(case_number=case.number, kind=kind, due_at=due_at)


def _text(value: str | None, limit: int, field: str) -> str:
    """Free text from the input, stripped, refused (typed) when longer than its column."""
    text = (value or "").strip()
    if len(text) > limit:
        raise DomainError(CaseErrorCode.TEXT_TOO_LONG, field=["input", field])
    return text


async def load_case_for_update(number: str, *, session: AsyncSession) -> Case:
    """The case row, locked until the caller's transaction ends (``locks.py``: once)."""
    if locks.holds(session, number):
        # the session's row is current (read again only if a rollback expired it)
        case = await session.get(Case, number)
    else:
        # populate_existing: lock and re-read even when the row is in the identity map
        case = await session.get(Case, number, with_for_update=True, populate_existing=True)
        if case is not None:
            locks.mark(session, number)
    if case is None:
        raise DomainError(CaseErrorCode.CASE_NOT_FOUND, field=["input", "number"])
    return case


def _at_org(case: Case, actor: Actor) -> None:
    if actor.kind == "STAFF" and actor.org_code != case.org_code:
        raise DomainError(CaseErrorCode.NOT_AT_THIS_ORG, field=["input", "number"])


def _check_version(case: Case, expected: int | None) -> None:
    if expected is not None and expected != case.version:
        raise DomainError(
            CaseErrorCode.VERSION_CONFLICT,
            field=["input", "expectedVersion"],
            detail=f"now {case.version}",
        )


async def _materials(session: AsyncSession, case: Case) -> list[CaseMaterial]:
    return list(
        (
            await session.scalars(
                select(CaseMaterial)
                .where(CaseMaterial.case_number == case.number)
                .order_by(CaseMaterial.id)
            )
        ).all()
    )


async def _open_suspension(session: AsyncSession, case: Case) -> CaseSuspension | None:
    return await session.scalar(
        select(CaseSuspension).where(
            CaseSuspension.case_number == case.number, CaseSuspension.ended_on.is_(None)
        )
    )


async def _suspensions(session: AsyncSession, case: Case) -> list[CaseSuspension]:
    return list(
        (
            await session.scalars(
                select(CaseSuspension).where(CaseSuspension.case_number == case.number)
            )
        ).all()
    )


def set_clock(
    case: Case, suspensions: Sequence[CaseSuspension], calendar: WorkCalendar, today: dt.date
) -> None:
    """Store the due and yellow dates the clock reads today (``levels/cases/clocks``),
    so lists can filter by clock state in SQL. Only special procedures after
    acceptance stop the clock; waiting for 补正 comes before acceptance."""
    if case.accepted_on is None:
        return
    stretches = [
        Suspension(s.started_on, s.ended_on)
        for s in suspensions
        if s.kind is SuspensionKind.SPECIAL_PROCEDURE
    ]

    def due_after(limit: int) -> ClockReading:
        return read_clock(
            calendar=calendar,
            accepted_on=case.accepted_on,
            limit_days=limit,
            suspensions=stretches,
            today=today,
        )

    reading = due_after(case.promised_limit_days)
    case.due_on = reading.due_on
    # YELLOW from the day the used share reaches YELLOW_SHARE of the limit
    case.yellow_on = due_after(math.ceil(case.promised_limit_days * YELLOW_SHARE)).due_on
    case.clock_provisional = reading.provisional


@dataclass
class StepInput:
    """What a step needs beyond the case number (each step reads its own fields)."""

    expected_version: int | None = None
    missing: Sequence[tuple[str, str | None]] = ()  # (material name, note)
    supplement_days: int | None = None
    materials: Sequence[MaterialDraft] = ()
    rejection_reason: RejectionReason | None = None
    authority: str | None = None
    procedure: SpecialProcedureKind | None = None
    procedure_basis: str | None = None  # 特殊环节: its basis, limit, and why it is longer
    procedure_limit_days: int | None = None
    exception_reason: str | None = None
    decision: Decision | None = None
    reasons: str | None = None
    delivery_method: DeliveryMethod | None = None
    delivery_reference: str | None = None
    window_id: str | None = None  # where it is delivered (出件窗口)
    note: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def _of_department(actor: Actor, department_id: str | None) -> None:
    if actor.kind == "STAFF" and actor.department_id != department_id:
        raise DomainError(CaseErrorCode.NOT_THIS_DEPARTMENT, field=["input", "number"])


async def _parts(session: AsyncSession, case: Case) -> list[CasePart]:
    if not case.joint:
        return []
    return list(
        (
            await session.scalars(
                select(CasePart)
                .where(CasePart.case_number == case.number)
                .order_by(CasePart.position)
            )
        ).all()
    )


async def _decide_lead(
    session: AsyncSession,
    case: Case,
    actor: Actor,
    given: StepInput,
    reasons: str,
    now: dt.datetime,
) -> None:
    """联办: the lead department decides last, once every other department has; it
    cannot approve what another department denied."""
    _of_department(actor, case.department_id)
    parts = await _parts(session, case)
    undecided = [p.matter_name for p in parts if not p.lead and p.decision is None]
    if undecided:
        raise DomainError(
            CaseErrorCode.PARTS_UNDECIDED, field=["input", "decision"], detail="、".join(undecided)
        )
    denied = [p.matter_name for p in parts if p.decision is Decision.DENIED]
    if denied and given.decision is Decision.APPROVED:
        raise DomainError(
            CaseErrorCode.JOINT_PART_DENIED, field=["input", "decision"], detail="、".join(denied)
        )
    for p in parts:
        if p.lead:
            p.decision, p.reasons, p.decided_by, p.decided_at = (
                given.decision,
                reasons or None,
                actor.id,
                now,
            )


async def decide_part(
    number: str,
    implementation_code: str,
    given: StepInput,
    *,
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
) -> Case:
    """联办: one department records its decision on its part of a joint case under
    review. The case stays UNDER_REVIEW (its version moves on); the lead decides the
    case with ``take_step(DECIDE)`` when every other part is decided."""
    case = await load_case_for_update(number, session=session)
    _check_version(case, given.expected_version)
    _at_org(case, actor)
    if case.status is not CaseStatus.UNDER_REVIEW:
        raise DomainError(
            CaseErrorCode.INVALID_TRANSITION, detail=f"DECIDE_PART from {case.status.value}"
        )
    part = next(
        (p for p in await _parts(session, case) if p.implementation_code == implementation_code),
        None,
    )
    if part is None:
        raise DomainError(CaseErrorCode.PART_NOT_FOUND, field=["input", "implementationCode"])
    if part.lead:
        raise DomainError(CaseErrorCode.LEAD_DECIDES_LAST, field=["input", "implementationCode"])
    if part.decision is not None:
        raise DomainError(CaseErrorCode.PART_ALREADY_DECIDED, field=["input", "implementationCode"])
    _of_department(actor, part.department_id)
    reasons = _text(given.reasons, 4000, "reasons")
    if given.decision is None:
        raise DomainError(CaseErrorCode.INVALID_TRANSITION, field=["input", "decision"])
    if given.decision is Decision.DENIED and not reasons:
        raise DomainError(CaseErrorCode.REASONS_REQUIRED, field=["input", "reasons"])
    part.decision, part.reasons, part.decided_by, part.decided_at = (
        given.decision,
        reasons or None,
        actor.id,
        now,
    )
    case.updated_at = now  # the version moves: the part is part of the case
    await session.flush()
    await record_event(
        session,
        case,
        actor,
        DECIDE_PART_ACTION,
        case.status,
        now,
        {"implementation": part.implementation_code, "decision": given.decision.value},
    )
    return case


def clock_state(case: Case | ReadRow, today: dt.date) -> ClockState:
    if not clock_running(case.status) or case.due_on is None:
        return ClockState.STOPPED
    return deadline_state(case.due_on, case.yellow_on, today)
