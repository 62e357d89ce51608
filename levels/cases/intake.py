"""Receiving a case (收件 and 受理 at the window): the submission, its parts for a joint
matter, the reception window, materials checked against the service guide and taken
from the licence library — ``submit_case``. The shared rules of a case (``Actor``, the
audit event of each step, timers) are in ``service.py``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.calendar.workdays import WorkCalendar
from levels.cases import prereview, referral_clock, sharing, tolerance
from levels.cases.clocks import deemed_acceptance_deadline
from levels.cases.enums import (
    ApplicantKind,
    CaseStatus,
    MaterialSource,
    MaterialState,
    TimerKind,
    ToleranceConsequence,
)
from levels.cases.errors import CaseErrorCode
from levels.cases.machine import Step
from levels.cases.materials import MaterialDraft, check_reference
from levels.cases.models import Case, CaseMaterial, CasePart
from levels.cases.numbers import next_case_number
from levels.cases.service import (
    MAX_TOLERANCE_WORKING_DAYS,
    PUSH_ACCEPTANCE_DAYS,
    Actor,
    _timer,
    china_date,
    record_event,
    start_of_day_after,
)
from levels.common.codes import parse_division
from levels.common.enums import HandlingKind, Level, MatterStatus, WindowKind
from levels.common.errors import DomainError
from levels.common.models import ImplementationMaterial, MatterImplementation, Window
from levels.licences import reuse
from levels.licences import service as licences
from levels.licences.enums import LicenceUseKind
from levels.licences.errors import LicenceErrorCode
from levels.licences.identifiers import parse_licence_id
from levels.licences.keys import OrgSigner
from levels.notices import service as notices


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


@dataclass(frozen=True)
class ItemRead:
    """The implementing item and its service guide as read elsewhere (the hub reads them
    from the node keeping them for a case received at a node that does not): a case
    received below the deciding org needs nothing more of the implementing store."""

    item: MatterImplementation
    guide: Sequence[ImplementationMaterial]


def _from_read(
    read: ItemRead, submission: Submission
) -> tuple[MatterImplementation, list[ImplementationMaterial]]:
    """The item in force and its guide from ``read``: only for a case received below
    the deciding org, where joint handling and windows are refused anyway."""
    impl = read.item
    if impl.code != submission.implementation_code or impl.status is not MatterStatus.PUBLISHED:
        raise DomainError(
            CaseErrorCode.IMPLEMENTATION_NOT_IN_FORCE, field=["input", "implementationCode"]
        )
    if submission.received_by is None or submission.joint or submission.window_id is not None:
        # joint handling and window pushes happen at the deciding org
        raise DomainError(CaseErrorCode.INVALID_TRANSITION, field=["input", "implementationCode"])
    guide = [g for g in read.guide if g.implementation_code == impl.code]
    return impl, sorted(guide, key=lambda g: g.position)


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
    catalogue: AsyncSession | ItemRead | None = None,
    library: reuse.Library | None = None,
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
    licence's status asked of its issuer through ``issuer_status``; ``catalogue`` may
    instead be the item and its guide as read elsewhere (``ItemRead``)."""
    if isinstance(catalogue, ItemRead):
        impl, guide = _from_read(catalogue, submission)
        joint: list[tuple[MatterImplementation, PartDraft]] = []
        impls, window = [impl], None
    else:
        impl, joint, window, guide = await _read_catalogue(catalogue or session, submission, actor)
        impls = [impl, *(i for i, _ in joint)]
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


async def _read_catalogue(
    found: AsyncSession, submission: Submission, actor: Actor
) -> tuple[
    MatterImplementation,
    list[tuple[MatterImplementation, PartDraft]],
    Window | None,
    list[ImplementationMaterial],
]:
    """The item in force, the joint parts, the reception window and the guide, read
    from the implementing org's store."""
    impl = await _in_force(found, submission.implementation_code, ["input", "implementationCode"])
    joint = await _joint_parts(found, impl, submission)
    impls = [impl, *(i for i, _ in joint)]
    window = await _reception_window(found, submission.window_id, actor, impls)
    rows = (
        await found.scalars(
            select(ImplementationMaterial)
            .where(ImplementationMaterial.implementation_code.in_([i.code for i in impls]))
            .order_by(ImplementationMaterial.position)
        )
    ).all()
    # the lead's guide first; a material two guides ask for is asked for once
    order = {i.code: n for n, i in enumerate(impls)}
    guide = sorted(rows, key=lambda g: (order[g.implementation_code], g.position))
    return impl, joint, window, guide


LIBRARY_NOTE = "电子证照库调取"


async def _fill_from_library(
    library: reuse.Library | None,
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
