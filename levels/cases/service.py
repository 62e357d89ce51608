"""The rules of handling a case (办件), as the seeds prescribe them. Functions take
``*, session`` (the holding node's, inside the caller's transaction), the acting
``Actor``, the hub's ``now`` and the node's working-day calendar; every step is written
together with its audit event, or not at all.

Who may take a step is decided before these functions run (``auth/policy.py``); here:
is the step allowed from the case's status, is the case at the actor's org, is the
input what the service guide allows — and the clocks."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.audit.chain import EventDraft, append
from levels.audit.models import AuditEvent
from levels.calendar.workdays import WorkCalendar
from levels.cases import (
    correction,
    paperless,
    prereview,
    procedures,
    referral_clock,
    rejection,
    sharing,
    tolerance,
)
from levels.cases.clocks import (
    YELLOW_SHARE,
    ClockReading,
    Suspension,
    archive_due,
    deadline_state,
    deemed_acceptance_deadline,
    read_clock,
)
from levels.cases.enums import (
    ApplicantKind,
    CaseStatus,
    ClockState,
    Decision,
    MaterialSource,
    MaterialState,
    RejectionReason,
    SuspensionKind,
    TimerKind,
    ToleranceConsequence,
)
from levels.cases.errors import CaseErrorCode
from levels.cases.machine import Step, clock_running, next_status
from levels.cases.materials import MaterialDraft, check_reference
from levels.cases.models import (
    Case,
    CaseMaterial,
    CasePart,
    CaseSuspension,
    CaseTimer,
    SupervisionCard,
)
from levels.cases.numbers import next_case_number
from levels.cases.remedy import REMEDY
from levels.common.clock import CHINA
from levels.common.codes import parse_division
from levels.common.enums import (
    DeliveryMethod,
    HandlingKind,
    Level,
    MatterStatus,
    SpecialProcedureKind,
    WindowKind,
)
from levels.common.errors import DomainError
from levels.common.models import ImplementationMaterial, MatterImplementation, Window
from levels.common.reads import ReadRow
from levels.evaluations import enums as evaluation_actions
from levels.licences import reuse
from levels.licences import service as licences
from levels.licences.enums import LicenceUseKind
from levels.licences.errors import LicenceErrorCode
from levels.licences.identifiers import parse_licence_id
from levels.licences.keys import OrgSigner
from levels.notices import service as notices
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


@dataclass(frozen=True)
class Applicant:
    kind: ApplicantKind
    id: str  # account id
    name: str
    id_masked: str  # masked resident ID, or the credit code


@dataclass(frozen=True)
class PartDraft:
    """One more implementation handled jointly with the lead (联办)."""

    implementation_code: str
    matter_name: str
    legal_limit_days: int


@dataclass(frozen=True)
class Receiver:
    """A service org below the deciding one that receives the application (a village
    station for its residents, a town centre) and refers it up (转报)."""

    level: Level
    org_code: str
    division_code: str


@dataclass(frozen=True)
class Submission:
    implementation_code: str
    matter_name: str
    legal_limit_days: int
    applicant: Applicant
    channel: str
    materials: Sequence[MaterialDraft]
    # 容缺承诺: tolerable materials handed in later, by this date
    tolerance_deadline: dt.date | None = None
    tolerance_consequence: ToleranceConsequence | None = None  # when the matter states none
    # 联办: the other implementations, each of another department of the same org;
    # the lead is ``implementation_code``
    joint: Sequence[PartDraft] = ()
    # the window the receiving staff member sits at (一窗受理 when comprehensive)
    window_id: str | None = None
    # received below the deciding level: the case is numbered and kept there until
    # it is referred up; None: received by the implementing org itself
    received_by: Receiver | None = None
    proxy_authorization_id: str | None = None
    applicant_phone: str | None = None
    clerk_name: str | None = None  # 收件人, as a village station's 受理告知书 names them
    # 转报时限 when the item sets none (the hub's setting)
    referral_days: int = referral_clock.DEFAULT_REFERRAL_DAYS


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
    the caller's transaction: a step, a staff read, a flag raised by a timer."""
    return await append(case_event(case, actor, action, before, detail), session=session, now=now)


def _timer(case: Case, kind: TimerKind, due_at: dt.datetime) -> CaseTimer:
    return CaseTimer(case_number=case.number, kind=kind, due_at=due_at)


async def _in_force(session: AsyncSession, code: str, field: list[str]) -> MatterImplementation:
    impl = await session.get(MatterImplementation, code)
    if impl is None or impl.status is not MatterStatus.PUBLISHED:
        raise DomainError(CaseErrorCode.IMPLEMENTATION_NOT_IN_FORCE, field=field)
    return impl


async def _joint_parts(
    session: AsyncSession, lead: MatterImplementation, submission: Submission
) -> list[tuple[MatterImplementation, PartDraft]]:
    """The other implementations of a joint case: in force, at the lead's org, each of
    a department of its own (联办 joins departments, not items of one department)."""
    parts: list[tuple[MatterImplementation, PartDraft]] = []
    departments = {lead.department_id}
    for i, draft in enumerate(submission.joint):
        where = ["input", "jointImplementationCodes", str(i)]
        impl = await _in_force(session, draft.implementation_code, where)
        if impl.org_code != lead.org_code:
            raise DomainError(CaseErrorCode.JOINT_NOT_SAME_ORG, field=where)
        if impl.department_id in departments:
            raise DomainError(CaseErrorCode.JOINT_SAME_DEPARTMENT, field=where)
        departments.add(impl.department_id)
        parts.append((impl, draft))
    return parts


async def _reception_window(
    session: AsyncSession,
    window_id: str | None,
    actor: Actor,
    impls: Sequence[MatterImplementation],
) -> Window | None:
    """The window a staff member receives at: at the matter's org, one that receives,
    serving every department of the case (a comprehensive window serving no listed
    department receives them all: 无差别受理)."""
    if window_id is None:
        return None
    where = ["input", "windowId"]
    if actor.kind != "STAFF":
        raise DomainError(CaseErrorCode.ROLE_NOT_ALLOWED, field=where)
    window = await session.get(Window, window_id)
    if window is None or window.org_code != impls[0].org_code:
        raise DomainError(CaseErrorCode.WINDOW_NOT_AT_THIS_ORG, field=where)
    if window.kind not in (WindowKind.COMPREHENSIVE_RECEPTION, WindowKind.DEPARTMENT):
        raise DomainError(CaseErrorCode.WINDOW_CANNOT_RECEIVE, field=where)
    served = set(window.department_ids)
    if served and any(i.department_id not in served for i in impls):
        raise DomainError(CaseErrorCode.WINDOW_DOES_NOT_SERVE, field=where)
    return window


async def submit_case(
    submission: Submission,
    *,
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    calendar: WorkCalendar,
    catalogue: AsyncSession | None = None,
    library: AsyncSession | None = None,
    issuer_status: reuse.IssuerStatus | None = None,
    signer: OrgSigner | None = None,
) -> Case:
    """收件: record the application and its materials at the implementing org. A joint
    application (联办) asks once for the materials of all its implementations; one
    received at a comprehensive window (一窗受理) is pushed to the department, which
    must take it up within 2 working days.

    ``session`` is the store of the receiving org, where the case is written;
    ``catalogue`` the store of the implementing org (the same one unless the
    submission is ``received_by`` an org below it); ``library`` the city's, whose
    licence library fills every material an e-licence the applicant holds replaces
    (none when it is not given or does not answer: the material is asked for), each
    licence's status asked of its issuer through ``issuer_status``."""
    found = catalogue or session
    impl = await _in_force(found, submission.implementation_code, ["input", "implementationCode"])
    joint = await _joint_parts(found, impl, submission)
    impls = [impl, *(i for i, _ in joint)]
    window = await _reception_window(found, submission.window_id, actor, impls)
    receiver = submission.received_by
    if receiver is not None:
        if joint or window is not None:
            # joint handling and window pushes happen at the deciding org
            raise DomainError(
                CaseErrorCode.INVALID_TRANSITION, field=["input", "implementationCode"]
            )
        below = receiver.division_code.startswith(parse_division(impl.division_code).prefix)
        if receiver.level.value not in impl.receive_levels or not below:
            # the route does not let this org hand the application in
            raise DomainError(
                CaseErrorCode.NOT_RECEIVABLE_HERE, field=["input", "implementationCode"]
            )
    guide = (
        await found.scalars(
            select(ImplementationMaterial)
            .where(ImplementationMaterial.implementation_code.in_([i.code for i in impls]))
            .order_by(ImplementationMaterial.position)
        )
    ).all()
    # the lead's guide first; a material two guides ask for is asked for once
    order = {i.code: n for n, i in enumerate(impls)}
    guide = sorted(guide, key=lambda g: (order[g.implementation_code], g.position))
    today = china_date(now)
    latest = calendar.add_working_days(today, MAX_TOLERANCE_WORKING_DAYS)
    materials = _check_materials(submission, guide, today=today, latest=latest)
    consequence = tolerance.consequence_of(
        impl.tolerance_consequence, submission.tolerance_consequence
    )
    uses = await _fill_from_library(
        library, submission, guide, materials, actor, now, issuer_status
    )
    who = submission.applicant
    sharing.fill_identity_card(who.kind, who.id_masked, guide, materials)
    received_on = china_date(now)
    at_division = receiver.division_code if receiver else impl.division_code
    number = await next_case_number(at_division, received_on, session=session)
    immediate = all(i.handling_kind is HandlingKind.IMMEDIATE for i in impls)
    legal = max([submission.legal_limit_days, *(d.legal_limit_days for _, d in joint)])
    pushed = (
        window is not None and window.kind is WindowKind.COMPREHENSIVE_RECEPTION and not immediate
    )
    case = Case(
        number=number,
        implementation_code=impl.code,
        basic_code=impl.basic_code,
        matter_name=submission.matter_name,
        handling_kind=HandlingKind.IMMEDIATE if immediate else HandlingKind.PROMISED,
        level=receiver.level if receiver else impl.level,
        org_code=receiver.org_code if receiver else impl.org_code,
        division_code=at_division,
        department_id=None if receiver else impl.department_id,
        received_level=receiver.level if receiver else impl.level,
        proxy_authorization_id=submission.proxy_authorization_id,
        applicant_phone=submission.applicant_phone,
        applicant_kind=submission.applicant.kind,
        applicant_id=submission.applicant.id,
        applicant_name=submission.applicant.name,
        applicant_id_masked=submission.applicant.id_masked,
        submitted_by=actor.id,
        channel=submission.channel,
        status=CaseStatus.SUBMITTED,
        legal_limit_days=legal,
        promised_limit_days=max(i.promised_time_limit_days for i in impls),
        submitted_at=now,
        tolerance_deadline=submission.tolerance_deadline,
        received_window_id=window.id if window else None,
        prereview_due_on=prereview.due_on(submission.channel, calendar, received_on),
        push_due_on=calendar.add_working_days(received_on, PUSH_ACCEPTANCE_DAYS)
        if pushed
        else None,
        joint=bool(joint),
        version=1,
        updated_at=now,
    )
    if receiver is not None:
        limit = referral_clock.referral_limit(impl, submission.referral_days)
        referral_clock.start(case, calendar, received_on, limit)
    session.add(case)
    await session.flush()
    for m in materials:
        m.case_number = number
    session.add_all(materials)
    if case.tolerance_deadline is not None:
        lapse_at = start_of_day_after(case.tolerance_deadline)
        await tolerance.commit(session, case, materials, consequence, now=now, lapse_at=lapse_at)
    if joint:
        drafts = [PartDraft(impl.code, submission.matter_name, submission.legal_limit_days)]
        drafts += [d for _, d in joint]
        session.add_all(
            CasePart(
                case_number=number,
                position=n,
                implementation_code=i.code,
                basic_code=i.basic_code,
                matter_name=d.matter_name,
                department_id=i.department_id,
                lead=n == 0,
                legal_limit_days=d.legal_limit_days,
                promised_limit_days=i.promised_time_limit_days,
            )
            for n, (i, d) in enumerate(zip(impls, drafts, strict=True))
        )
    if not immediate and receiver is None:
        # the 3-day notice rule binds the org that accepts; a lower org refers it up
        deadline = deemed_acceptance_deadline(calendar, received_on)
        session.add(_timer(case, TimerKind.DEEMED_ACCEPTANCE, start_of_day_after(deadline)))
    if case.push_due_on is not None:
        session.add(_timer(case, TimerKind.PUSH_ACCEPTANCE, start_of_day_after(case.push_due_on)))
    session.add_all(prereview.timers(case, calendar))
    detail: dict[str, Any] = {"materials": [m.name for m in materials]}
    if joint:
        detail["joint"] = [i.code for i in impls]
    if window is not None:
        detail["window"] = window.id
    if receiver is not None:
        detail["implementationLevel"] = impl.level.value
    if submission.proxy_authorization_id is not None:
        detail["proxyAuthorization"] = submission.proxy_authorization_id
    if uses:
        detail["licences"] = {u.material: u.licence_id for u in uses}
    await record_event(session, case, actor, Step.SUBMIT.value, None, now, detail)
    await notices.on_submit(session, case, submission.clerk_name, impl.level, now, signer)
    # the org that used the licence is the one that received the application, whoever
    # handed it in (a resident online, an agent at a village station, a receptionist)
    uses = [replace(u, case_number=number, used_by_org=case.org_code) for u in uses]
    await licences.record_uses(session, case.level, uses, now)
    return case


LIBRARY_NOTE = "电子证照库调取"


async def _fill_from_library(
    library: AsyncSession | None,
    submission: Submission,
    guide: Sequence[ImplementationMaterial],
    materials: Sequence[CaseMaterial],
    actor: Actor,
    now: dt.datetime,
    issuer_status: reuse.IssuerStatus | None,
) -> list[licences.Use]:
    """100 % reuse: a material an e-licence replaces is filled from the library when
    the applicant holds a licence of its type that its issuer holds VALID now, and never
    asked for; a licence named in the input must be the applicant's own, of the right
    type, VALID at its issuer (``levels/licences/reuse.py``)."""
    wants = {g.name: g.satisfied_by_licence_type for g in guide if g.satisfied_by_licence_type}
    presented = [
        reuse.Presented(
            drafted.name,
            parse_licence_id(
                drafted.reference or "", field=("input", "materials", str(i), "reference")
            ).value,
            i,
        )
        for i, drafted in enumerate(submission.materials)
        if drafted.source is MaterialSource.LICENCE
    ]
    if library is None or not wants:
        if presented:
            raise DomainError(LicenceErrorCode.LICENCE_NOT_FOUND, field=["input", "materials"])
        return []
    picked = await reuse.choose(
        library,
        holder=submission.applicant.id,
        wanted=wants,
        presented=presented,
        issuer_status=issuer_status,
        today=china_date(now),
    )
    uses: list[licences.Use] = []
    for m in materials:
        row = picked.get(m.name)
        if row is None:
            continue
        m.source, m.reference, m.state = MaterialSource.LICENCE, row.id, MaterialState.PROVIDED
        m.note = LIBRARY_NOTE
        uses.append(
            licences.Use(
                licence_id=row.id,
                kind=LicenceUseKind.MATERIAL,
                purpose=f"{submission.matter_name}：{m.name}",
                used_by=actor.id,
                used_at=now,
                material=m.name,
            )
        )
    return uses


def _text(value: str | None, limit: int, field: str) -> str:
    """Free text from the input, stripped, refused (typed) when longer than its column."""
    text = (value or "").strip()
    if len(text) > limit:
        raise DomainError(CaseErrorCode.TEXT_TOO_LONG, field=["input", field])
    return text


def _check_materials(
    submission: Submission,
    guide: Sequence[ImplementationMaterial],
    *,
    today: dt.date,
    latest: dt.date,
) -> list[CaseMaterial]:
    by_name: dict[str, ImplementationMaterial] = {}
    for g in guide:
        by_name.setdefault(g.name, g)
    guide = list(by_name.values())
    given: dict[str, MaterialDraft] = {}
    for i, m in enumerate(submission.materials):
        where = ["input", "materials", str(i)]
        if m.name not in by_name:
            raise DomainError(CaseErrorCode.MATERIAL_NOT_IN_GUIDE, field=[*where, "name"])
        if m.name in given:
            raise DomainError(CaseErrorCode.DUPLICATE_MATERIAL, field=[*where, "name"])
        check_reference(m, where)
        given[m.name] = m
    deadline = submission.tolerance_deadline
    if deadline is not None and not today < deadline <= latest:
        raise DomainError(
            CaseErrorCode.INVALID_DEADLINE,
            field=["input", "toleranceDeadline"],
            detail=f"{today + dt.timedelta(days=1)} … {latest}",
        )
    rows: list[CaseMaterial] = []
    for g in guide:
        found = given.get(g.name)
        if found is not None:
            state = MaterialState.PROVIDED
        elif g.tolerable and deadline is not None:
            state = MaterialState.TOLERATED
        else:
            state = MaterialState.MISSING
        rows.append(
            CaseMaterial(
                name=g.name,
                source=found.source if found else None,
                reference=found.reference if found else None,
                state=state,
            )
        )
    return rows


async def load_case_for_update(number: str, *, session: AsyncSession) -> Case:
    # populate_existing: lock and re-read even when the row is in the identity map
    case = await session.get(Case, number, with_for_update=True, populate_existing=True)
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


def _of_department(actor: Actor, department_id: str | None) -> None:
    if actor.kind == "STAFF" and actor.department_id != department_id:
        raise DomainError(CaseErrorCode.NOT_THIS_DEPARTMENT, field=["input", "number"])


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
        if taken_up and step is not Step.NOTIFY_SUPPLEMENT:
            await _cancel_timers(session, case, TimerKind.DEEMED_ACCEPTANCE, now)
        if taken_up:
            await _cancel_timers(session, case, TimerKind.PUSH_ACCEPTANCE, now)
        if before is CaseStatus.AWAITING_SUPPLEMENT:
            await _cancel_timers(session, case, TimerKind.SUPPLEMENT_DEADLINE, now)
        if before is CaseStatus.DELIVERED:
            await _cancel_timers(session, case, TimerKind.ARCHIVE_DUE, now)
        set_clock(case, await _suspensions(session, case), calendar, today)
    # the version check happens here (StaleDataError when another step won)
    await session.flush()
    await record_event(session, case, actor, step.value, before, now, detail)
    await notices.on_step(session, case, step, detail, now, issuing.signer if issuing else None)
    if step in (Step.DECIDE, Step.COMPLETE) and case.decision is Decision.APPROVED:
        # 出证: the approval and its e-licences commit together, or neither does
        await licences.issue_for_case(session, case, issuing, actor, now)
    elif issuing is not None and issuing.fields:
        raise DomainError(
            LicenceErrorCode.LICENCE_FIELDS_NOT_ISSUED, field=["input", "licenceFields"]
        )
    return case


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


def clock_state(case: Case | ReadRow, today: dt.date) -> ClockState:
    if not clock_running(case.status) or case.due_on is None:
        return ClockState.STOPPED
    return deadline_state(case.due_on, case.yellow_on, today)


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


async def _cancel_timers(
    session: AsyncSession, case: Case, kind: TimerKind, now: dt.datetime
) -> None:
    timers = await session.scalars(
        select(CaseTimer).where(
            CaseTimer.case_number == case.number,
            CaseTimer.kind == kind,
            CaseTimer.fired_at.is_(None),
            CaseTimer.cancelled_at.is_(None),
        )
    )
    for t in timers:
        t.cancelled_at = now


async def parts_by_case(numbers: Sequence[str], *, session: AsyncSession) -> Sequence[CasePart]:
    return (
        await session.scalars(
            select(CasePart)
            .where(CasePart.case_number.in_(numbers))
            .order_by(CasePart.case_number, CasePart.position)
        )
    ).all()


async def cards_by_case(
    numbers: Sequence[str], *, session: AsyncSession
) -> Sequence[SupervisionCard]:
    return (
        await session.scalars(
            select(SupervisionCard)
            .where(SupervisionCard.case_number.in_(numbers))
            .order_by(SupervisionCard.case_number, SupervisionCard.id)
        )
    ).all()


async def materials_by_case(
    numbers: Sequence[str], *, session: AsyncSession
) -> Sequence[CaseMaterial]:
    return (
        await session.scalars(
            select(CaseMaterial)
            .where(CaseMaterial.case_number.in_(numbers))
            .order_by(CaseMaterial.case_number, CaseMaterial.id)
        )
    ).all()


async def events_by_case(numbers: Sequence[str], *, session: AsyncSession) -> Sequence[AuditEvent]:
    """The audit events of these cases that changed or recorded something (reads by
    staff are audited too, but are not part of a case's timeline)."""
    return (
        await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.case_number.in_(numbers), AuditEvent.action.not_in(NOT_STEPS))
            .order_by(AuditEvent.at, AuditEvent.division_code, AuditEvent.seq)
        )
    ).all()
