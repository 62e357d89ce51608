"""The village station's service modes (000 四.三.4: 即时办理、全程代办、陪同办理、上门办理),
in the store of the village level.

A case the station receives records the mode it is handled in — the mode the
resident's authorization names, or another the route offers. 陪同办理 records who
accompanied the resident; 上门办理 records each visit (day, who went, where), and the
ledger (台账) counts them. A proxy fee (代办) is never charged to a resident who holds
a valid 残疾人证 in the licence library or is at or over the stated age (003 "对残疾人和
行动不便的老人…均可实施免费代办"): the record says it was free, and why. Charging a fee
needs the applicant's age, so a fee is refused while it is not known.

Who may do what is decided before these functions run (``auth/policy.py``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.audit.chain import EventDraft, append
from levels.cases.models import Case
from levels.cases.service import Actor, china_date
from levels.common.enums import Level, VillageServiceMode
from levels.common.errors import DomainError
from levels.village.errors import VillageErrorCode as E
from levels.village.models import FeeWaiver, HomeVisit, VillageService

RECORD_ACTION = "RECORD_VILLAGE_SERVICE"
VISIT_ACTION = "RECORD_HOME_VISIT"
NAME_LIMIT = 100
TEXT_LIMIT = 500
# the modes in which the station hands the case in for the resident (代办): a fee may
# be asked for them, unless the resident is served free
PROXY_MODES = frozenset(
    {VillageServiceMode.FULL_PROXY, VillageServiceMode.ACCOMPANIED, VillageServiceMode.HOME_VISIT}
)


@dataclass(frozen=True)
class ServiceDraft:
    mode: VillageServiceMode
    accompanied_by: str | None = None
    fee_fen: int = 0


@dataclass(frozen=True)
class Eligibility:
    """What the free proxy service looks at: the resident's valid 残疾人证 in the
    library (its id), and their age (None: not known, no ID number given)."""

    disability_licence_id: str | None
    age: int | None
    free_age: int


def age_on(birth: dt.date, today: dt.date) -> int:
    """Full years from ``birth`` to ``today``."""
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def waiver_of(who: Eligibility) -> FeeWaiver | None:
    if who.disability_licence_id is not None:
        return FeeWaiver.DISABILITY_CERTIFICATE
    if who.age is not None and who.age >= who.free_age:
        return FeeWaiver.AGE
    return None


def _checked(draft: ServiceDraft, who: Eligibility) -> tuple[str | None, FeeWaiver | None]:
    accompanied_by = (draft.accompanied_by or "").strip() or None
    if draft.mode is VillageServiceMode.ACCOMPANIED and accompanied_by is None:
        raise DomainError(
            E.ACCOMPANIED_BY_REQUIRED, field=["input", "villageService", "accompaniedBy"]
        )
    if draft.mode is not VillageServiceMode.ACCOMPANIED and accompanied_by is not None:
        raise DomainError(
            E.ACCOMPANIED_BY_NOT_ACCOMPANIED, field=["input", "villageService", "accompaniedBy"]
        )
    if accompanied_by is not None and len(accompanied_by) > NAME_LIMIT:
        raise DomainError(E.TEXT_TOO_LONG, field=["input", "villageService", "accompaniedBy"])
    if draft.fee_fen < 0:
        raise DomainError(E.INVALID_FEE, field=["input", "villageService", "feeYuan"])
    waiver = waiver_of(who) if draft.mode in PROXY_MODES else None
    if draft.fee_fen > 0:
        if draft.mode not in PROXY_MODES:
            raise DomainError(E.FEE_ONLY_FOR_PROXY, field=["input", "villageService", "feeYuan"])
        if waiver is not None:
            raise DomainError(
                E.FEE_WAIVED, field=["input", "villageService", "feeYuan"], detail=waiver.value
            )
        if who.age is None:
            raise DomainError(E.AGE_UNKNOWN, field=["input", "applicantIdNumber"])
    return accompanied_by, waiver


async def record_service(
    case: Case,
    draft: ServiceDraft,
    who: Eligibility,
    *,
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
) -> VillageService:
    """Record how the station serves ``case`` (checked: accompaniment, fee, waiver)
    and its audit event, in the caller's transaction."""
    accompanied_by, waiver = _checked(draft, who)
    row = VillageService(
        case_number=case.number,
        village_code=case.division_code,
        mode=draft.mode,
        accompanied_by=accompanied_by,
        fee_fen=0 if waiver is not None else draft.fee_fen,
        fee_waiver=waiver,
        waiver_licence_id=who.disability_licence_id
        if waiver is FeeWaiver.DISABILITY_CERTIFICATE
        else None,
        resident_age=who.age,
        recorded_by=actor.id,
        recorded_at=now,
    )
    session.add(row)
    await session.flush()
    detail = {
        "case": case.number,
        "mode": draft.mode.value,
        "accompaniedBy": accompanied_by,
        "feeFen": row.fee_fen,
        "feeWaiver": waiver.value if waiver else None,
    }
    await _audit(session, actor, RECORD_ACTION, None, case.division_code, detail, now)
    return row


@dataclass(frozen=True)
class VisitDraft:
    case_number: str
    visited_on: dt.date
    staff: str
    place: str
    note: str | None = None


def _text(value: str | None, code: E, field: str, *, required: bool) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise DomainError(code, field=["input", field])
        return None
    if len(text) > TEXT_LIMIT:
        raise DomainError(E.TEXT_TOO_LONG, field=["input", field])
    return text


async def record_visit(
    draft: VisitDraft,
    *,
    village_code: str,
    authorized_on: dt.date | None,
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
) -> HomeVisit:
    """Record a 上门办理 visit for a case the station received in that mode. Refused for
    a case in another mode, a day after today or before the resident authorized the
    station (``authorized_on``), and a second record of the same day."""
    case = await session.get(Case, draft.case_number)
    if case is None or case.division_code != village_code:
        raise DomainError(E.CASE_NOT_FOUND, field=["input", "caseNumber"])
    service = await session.get(VillageService, draft.case_number, with_for_update=True)
    if service is None or service.mode is not VillageServiceMode.HOME_VISIT:
        mode = service.mode.value if service is not None else None
        raise DomainError(E.NOT_A_HOME_VISIT, field=["input", "caseNumber"], detail=mode)
    staff = _text(draft.staff, E.STAFF_REQUIRED, "staff", required=True)
    place = _text(draft.place, E.PLACE_REQUIRED, "place", required=True)
    note = _text(draft.note, E.TEXT_TOO_LONG, "note", required=False)
    if draft.visited_on > china_date(now):
        raise DomainError(E.VISIT_IN_THE_FUTURE, field=["input", "visitedOn"])
    if authorized_on is not None and draft.visited_on < authorized_on:
        raise DomainError(
            E.VISIT_BEFORE_AUTHORIZATION,
            field=["input", "visitedOn"],
            detail=authorized_on.isoformat(),
        )
    same_day = await session.scalar(
        select(HomeVisit.id).where(
            HomeVisit.case_number == case.number, HomeVisit.visited_on == draft.visited_on
        )
    )
    if same_day is not None:
        raise DomainError(E.VISIT_ALREADY_RECORDED, field=["input", "visitedOn"])
    assert staff is not None and place is not None
    row = HomeVisit(
        case_number=case.number,
        village_code=case.division_code,
        visited_on=draft.visited_on,
        staff=staff,
        place=place,
        note=note,
        recorded_by=actor.id,
        recorded_at=now,
    )
    session.add(row)
    await session.flush()
    detail = {"case": case.number, "visitedOn": draft.visited_on.isoformat(), "place": place}
    await _audit(session, actor, VISIT_ACTION, case.number, case.division_code, detail, now)
    return row


async def _audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    case_number: str | None,
    village_code: str,
    detail: Mapping[str, object],
    now: dt.datetime,
) -> None:
    await append(
        EventDraft(
            actor_id=actor.id,
            actor_kind=actor.kind,
            role=actor.role,
            channel=actor.channel,
            org_code=actor.org_code,
            level=Level.VILLAGE.value,
            action=action,
            case_number=case_number,
            before=None,
            after=None,
            detail={"village": village_code, **detail},
            request_id=actor.request_id,
            division_code=village_code,
        ),
        session=session,
        now=now,
    )


async def services_by_case(
    numbers: Sequence[str], *, session: AsyncSession
) -> Sequence[VillageService]:
    stmt = select(VillageService).where(VillageService.case_number.in_(list(numbers)))
    return (await session.scalars(stmt)).all()


async def visits_by_case(numbers: Sequence[str], *, session: AsyncSession) -> Sequence[HomeVisit]:
    stmt = (
        select(HomeVisit)
        .where(HomeVisit.case_number.in_(list(numbers)))
        .order_by(HomeVisit.visited_on, HomeVisit.id)
    )
    return (await session.scalars(stmt)).all()
