"""Taking a step of a case (``take_step``): acceptance, supplement (补正), suspension,
decision, delivery and the other steps of ``machine.py``, each with its clocks, timers
and audit event. The shared rules of a case are in ``service.py``; ``decide_part``
(the part of a joint matter one department decides) is there too."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import Table, bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from levels.calendar.workdays import WorkCalendar
from levels.cases import correction, paperless, procedures, rejection, tolerance
from levels.cases.clocks import archive_due
from levels.cases.enums import CaseStatus, Decision, MaterialState, SuspensionKind, TimerKind
from levels.cases.errors import CaseErrorCode
from levels.cases.machine import Step, next_status
from levels.cases.materials import check_reference
from levels.cases.models import Case, CaseSuspension, CaseTimer
from levels.cases.remedy import REMEDY
from levels.cases.service import (
    DEFAULT_SUPPLEMENT_DAYS,
    Actor,
    StepInput,
    _at_org,
    _check_version,
    _decide_lead,
    _materials,
    _of_department,
    _open_suspension,
    _parts,
    _suspensions,
    _text,
    _timer,
    china_date,
    load_case_for_update,
    record_event,
    set_clock,
    start_of_day_after,
)
from levels.common.enums import DeliveryMethod, HandlingKind, WindowKind
from levels.common.errors import DomainError
from levels.common.models import MatterImplementation, Window
from levels.licences import service as licences
from levels.licences.errors import LicenceErrorCode
from levels.notices import service as notices

# the steps a department takes up a case with (受理 or its refusal)
TAKE_UP_STEPS = frozenset(
    {
        Step.NOTIFY_SUPPLEMENT,
        Step.ACCEPT,
        Step.PROPOSE_REJECTION,
        Step.DECLINE_REJECTION,
        Step.REJECT,
        Step.CORRECT_ON_SPOT,
    }
)


async def take_step(
    number: str,
    step: Step,
    given: StepInput,
    *,
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    calendar: WorkCalendar,
    issuing: licences.Issuing | None = None,
) -> Case:
    """One step of the lifecycle on one case. Raises a typed error and changes
    nothing when the step is not allowed now, here, or with this input; raises
    VERSION_CONFLICT when someone else moved the case first."""
    case = await load_case_for_update(number, session=session)
    _check_version(case, given.expected_version)
    if actor.kind == "STAFF":
        _at_org(case, actor)
    before = case.status
    referred = case.received_level is not None and case.received_level is not case.level
    if step is Step.NOTIFY_SUPPLEMENT and referred:
        # referred from below: the materials were received once, and that is all (the
        # deciding org may ask the station instead: levels/cases/referral_rules.py)
        raise DomainError(CaseErrorCode.NO_SECOND_REQUEST, field=["input", "number"])
    procedures.refuse_out_of_turn(case, step)
    target = next_status(step, before, given.decision)
    # None while the case is held below the level that implements it (转报)
    impl = await session.get(MatterImplementation, case.implementation_code)
    if impl is None and (step in TAKE_UP_STEPS or step is Step.COMPLETE):
        # received below the level that implements it: taken up there, after 转报
        raise DomainError(CaseErrorCode.REFER_INSTEAD, field=["input", "number"])
    if step in TAKE_UP_STEPS and case.push_due_on is not None:
        # pushed from the front desk: the department takes it up, not the desk
        _of_department(actor, case.department_id)
    today = china_date(now)
    detail: dict[str, Any] = dict(given.detail)

    # one UPDATE of the case per step: its version moves by exactly one
    with session.no_autoflush:
        if step is Step.COMPLETE:
            if case.handling_kind is not HandlingKind.IMMEDIATE:
                raise DomainError(CaseErrorCode.NOT_IMMEDIATE, field=["input", "number"])
            await tolerance.hold_approval(session, case)
            case.accepted_on = today
            case.decision = Decision.APPROVED
            case.decided_at = now
            case.closed_at = now
            for part in await _parts(session, case):
                part.decision, part.decided_by, part.decided_at = Decision.APPROVED, actor.id, now
        elif step is Step.NOTIFY_SUPPLEMENT:
            detail["notice"] = await _notify_supplement(session, case, given, today, calendar)
        elif step is Step.SUPPLEMENT:
            await _supplement(session, case, given, today)
            case.accepted_on = today  # the clock starts on the day the file is complete
        elif step is Step.CORRECT_ON_SPOT:
            rows = {m.name: m for m in await _materials(session, case)}
            detail["corrected"] = correction.correct_on_spot(rows, given.materials)
            case.accepted_on = china_date(case.submitted_at)  # counted from receipt
        elif step in (Step.ACCEPT, Step.DEEM_ACCEPTED):
            case.accepted_on = china_date(case.submitted_at)
            case.deemed_accepted = step is Step.DEEM_ACCEPTED
        elif step is Step.PROPOSE_REJECTION:
            authority = _text(given.authority, 128, "authority")
            detail.update(rejection.propose(case, given.rejection_reason, authority, actor.id, now))
        elif step is Step.DECLINE_REJECTION:
            detail.update(rejection.decline(case))
        elif step is Step.REJECT:
            detail.update(rejection.approve(case, actor.id, now))
        elif step is Step.START_SPECIAL:
            detail.update(
                procedures.start(
                    session,
                    case,
                    _deciding(impl),
                    kind=given.procedure,
                    basis=given.procedure_basis,
                    limit_days=given.procedure_limit_days,
                    exception_reason=given.exception_reason,
                    today=today,
                    calendar=calendar,
                )
            )
        elif step is Step.FINISH_SPECIAL:
            detail.update(await procedures.finish(session, case, today=today, now=now))
        elif step is Step.DECIDE:
            reasons = (given.reasons or "").strip()
            if given.decision is Decision.DENIED and not reasons:
                raise DomainError(CaseErrorCode.REASONS_REQUIRED, field=["input", "reasons"])
            if given.decision is Decision.APPROVED:
                await tolerance.hold_approval(session, case)
            if case.joint:
                await _decide_lead(session, case, actor, given, reasons, now)
            case.decision = given.decision
            case.decision_reasons = reasons or None
            case.remedy = REMEDY if given.decision is Decision.DENIED else None
            case.decided_at = now
        elif step is Step.DELIVER:
            method = given.delivery_method
            reference = _text(given.delivery_reference, 64, "reference")
            if method is None or method.value not in _deciding(impl).delivery_methods:
                raise DomainError(
                    CaseErrorCode.DELIVERY_METHOD_NOT_OFFERED, field=["input", "method"]
                )
            if method is not DeliveryMethod.ELECTRONIC and not reference:
                raise DomainError(
                    CaseErrorCode.DELIVERY_REFERENCE_REQUIRED, field=["input", "reference"]
                )
            window = await _output_window(session, case, given)
            case.delivery_window_id = window.id if window else None
            case.delivery_method = method
            case.delivery_reference = reference or None
            case.delivered_at = now
            due = archive_due(calendar, today)
            session.add(_timer(case, TimerKind.ARCHIVE_DUE, start_of_day_after(due)))
        elif step in (Step.ARCHIVE, Step.WITHDRAW, Step.CLOSE_UNSUPPLEMENTED, Step.LAPSE_TOLERANCE):
            if step is Step.LAPSE_TOLERANCE:
                detail.update(await tolerance.lapse(session, case, now))
            case.closed_at = now
            open_one = await _open_suspension(session, case)
            if open_one is not None:
                open_one.ended_on = today

        case.status = target
        case.updated_at = now
        taken_up = before is CaseStatus.SUBMITTED and target is not CaseStatus.SUBMITTED
        if taken_up and step is not Step.REJECT:
            rejection.clear(case)  # a proposal still waiting lapses
        ended: list[TimerKind] = []
        if taken_up and step is not Step.NOTIFY_SUPPLEMENT:
            ended.append(TimerKind.DEEMED_ACCEPTANCE)
        if taken_up:
            ended.append(TimerKind.PUSH_ACCEPTANCE)
        if before is CaseStatus.AWAITING_SUPPLEMENT:
            ended.append(TimerKind.SUPPLEMENT_DEADLINE)
        if before is CaseStatus.DELIVERED:
            ended.append(TimerKind.ARCHIVE_DUE)
        await _cancel_timers(session, case, ended, now)
        # only a special procedure stops the clock, and one starts under review: a case
        # not taken up before this step (SUBMITTED: never accepted) has none to read
        waiting = before is CaseStatus.SUBMITTED
        stopped = [] if waiting else await _suspensions(session, case)
        set_clock(case, stopped, calendar, today)
    # the version check happens here (StaleDataError when another step won)
    await session.flush()
    await notices.on_step(session, case, step, detail, now, issuing.signer if issuing else None)
    # the audit event last of the step's writes: its division's head is locked from
    # here to the commit, and every other write of that division waits for it
    await record_event(session, case, actor, step.value, before, now, detail)
    if step in (Step.DECIDE, Step.COMPLETE) and case.decision is Decision.APPROVED:
        # 出证: the approval and its e-licences commit together, or neither does
        await licences.issue_for_case(session, case, issuing, actor, now)
    elif issuing is not None and issuing.fields:
        raise DomainError(
            LicenceErrorCode.LICENCE_FIELDS_NOT_ISSUED, field=["input", "licenceFields"]
        )
    return case


async def _output_window(session: AsyncSession, case: Case, given: StepInput) -> Window | None:
    """出件: a case received at a comprehensive window is handed over at an output
    window of the org (综合出件) when it is picked up."""
    where = ["input", "windowId"]
    if given.window_id is None:
        if case.received_window_id is not None and given.delivery_method is DeliveryMethod.PICKUP:
            raise DomainError(CaseErrorCode.OUTPUT_WINDOW_REQUIRED, field=where)
        return None
    window = await session.get(Window, given.window_id)
    if window is None or window.org_code != case.org_code:
        raise DomainError(CaseErrorCode.WINDOW_NOT_AT_THIS_ORG, field=where)
    if window.kind not in (WindowKind.COMPREHENSIVE_OUTPUT, WindowKind.DEPARTMENT):
        raise DomainError(CaseErrorCode.WINDOW_CANNOT_DELIVER, field=where)
    return window


def _deciding(impl: MatterImplementation | None) -> MatterImplementation:
    """The implementing item, for a step only the deciding level takes."""
    if impl is None:
        raise DomainError(CaseErrorCode.INVALID_TRANSITION, field=["input", "number"])
    return impl


async def _notify_supplement(
    session: AsyncSession,
    case: Case,
    given: StepInput,
    today: dt.date,
    calendar: WorkCalendar,
) -> list[dict[str, Any]]:
    """一次性告知: every missing or incorrect material, listed once."""
    materials = {m.name: m for m in await _materials(session, case)}
    listed: dict[str, str | None] = {}
    for i, (name, note) in enumerate(given.missing):
        if name not in materials:
            raise DomainError(
                CaseErrorCode.MATERIAL_NOT_IN_GUIDE, field=["input", "materials", str(i)]
            )
        paperless.refuse_notice_of(materials[name], ["input", "materials", str(i), "name"])
        listed[name] = note
    # whatever was never handed in is on the notice, asked for or not
    for m in materials.values():
        if m.state is MaterialState.MISSING:
            listed.setdefault(m.name, None)
    if not listed:
        raise DomainError(CaseErrorCode.NOTHING_TO_SUPPLEMENT, field=["input", "materials"])
    for name, note in listed.items():
        m = materials[name]
        # handed in but wrong: INCORRECT; never handed in (or promised for later, 容缺,
        # and now asked for): MISSING — either way 补正 must bring it
        m.state = (
            MaterialState.INCORRECT if m.state is MaterialState.PROVIDED else MaterialState.MISSING
        )
        m.note = _text(note, 2000, "note") or None
    days = DEFAULT_SUPPLEMENT_DAYS if given.supplement_days is None else given.supplement_days
    if days < 1:
        raise DomainError(CaseErrorCode.INVALID_DEADLINE, field=["input", "deadlineDays"])
    deadline = calendar.add_working_days(today, days)
    case.supplement_deadline = deadline
    session.add(
        CaseSuspension(case_number=case.number, kind=SuspensionKind.SUPPLEMENT, started_on=today)
    )
    session.add(_timer(case, TimerKind.SUPPLEMENT_DEADLINE, start_of_day_after(deadline)))
    return [{"name": n, "note": note} for n, note in listed.items()]


async def _supplement(session: AsyncSession, case: Case, given: StepInput, today: dt.date) -> None:
    materials = {m.name: m for m in await _materials(session, case)}
    for i, m in enumerate(given.materials):
        row = materials.get(m.name)
        if row is None:
            raise DomainError(
                CaseErrorCode.MATERIAL_NOT_IN_GUIDE, field=["input", "materials", str(i)]
            )
        check_reference(m, ["input", "materials", str(i)])
        paperless.refuse_replacing(row, m.source, ["input", "materials", str(i), "source"])
        row.source, row.reference, row.state = m.source, m.reference, MaterialState.PROVIDED
    still = [
        m.name
        for m in materials.values()
        if m.state in (MaterialState.MISSING, MaterialState.INCORRECT)
    ]
    if still:
        raise DomainError(
            CaseErrorCode.SUPPLEMENT_INCOMPLETE,
            field=["input", "materials"],
            detail="、".join(still),
        )
    open_one = await _open_suspension(session, case)
    if open_one is not None:
        open_one.ended_on = today


_timers = cast(Table, CaseTimer.__table__)
# built once, on the table (a Core UPDATE: no ORM bulk update around it); each step
# binds its case, the kinds it ends and the moment
_CANCEL_TIMERS = (
    update(_timers)
    .where(
        _timers.c.case_number == bindparam("b_number"),
        _timers.c.kind.in_(bindparam("b_kinds", expanding=True)),
        _timers.c.fired_at.is_(None),
        _timers.c.cancelled_at.is_(None),
    )
    .values(cancelled_at=bindparam("b_now"))
)


async def _cancel_timers(
    session: AsyncSession, case: Case, kinds: list[TimerKind], now: dt.datetime
) -> None:
    """The case's pending timers of ``kinds`` are cancelled: one UPDATE, and the
    session's copies of those timers follow it (as the ORM's bulk UPDATE would have
    them: loaded and not yet fired or cancelled)."""
    if not kinds:
        return
    await session.execute(_CANCEL_TIMERS, {"b_number": case.number, "b_kinds": kinds, "b_now": now})
    for held in session.identity_map.values():
        if (
            isinstance(held, CaseTimer)
            and held.case_number == case.number
            and held.kind in kinds
            and held.fired_at is None
            and held.cancelled_at is None
        ):
            set_committed_value(held, "cancelled_at", now)
