"""转报: a case received below the level that decides it travels up, keeping its number.

The holding org records receipt (and, at a town that reviews first, its preliminary
opinion 初审意见, kept on the case with who gave it, where and when) and refers the
case: its row here becomes REFERRED with the level it went to, and an outbox message
carries the case, its materials and its opinions to the next store — the town that
reviews first, or else the deciding org. There the handler writes the case anew, in the
same transaction as the inbox row of the message: the deciding org accepts on receipt
(受理, the clock starts that day) and may not ask for materials again; a reviewing town
holds it SUBMITTED until it refers it on.

Each store audits its half of the handoff with the message id."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.calendar.workdays import load_calendar
from levels.cases import referral_rules, tolerance
from levels.cases.enums import ApplicantKind, CaseStatus, MaterialSource, MaterialState
from levels.cases.errors import CaseErrorCode
from levels.cases.handover import hand_over, received, relay
from levels.cases.models import Case, CaseMaterial, CaseTolerance
from levels.cases.service import (
    Actor,
    _check_version,
    _text,
    china_date,
    load_case_for_update,
    record_event,
    set_clock,
    start_of_day_after,
)
from levels.common.enums import HandlingKind, Level
from levels.common.errors import DomainError
from levels.common.models import MatterImplementation, ServiceOrg
from levels.common.reads import ReadRow
from levels.notices import service as notices
from levels.outbox.service import Envelope, enqueue, handler

TOPIC = "case.referred"
REFER_ACTION = "REFER"
RECEIVE_ACTION = "RECEIVE_REFERRAL"


@dataclass(frozen=True)
class Hop:
    """Where a referral goes next: the level, its org, and whether it decides."""

    level: Level
    # None: the town's centre, named by the town store when the case arrives there
    org_code: str | None
    division_code: str
    decides: bool


LEVELS_BY_DEPTH = sorted(Level, key=lambda lv: lv.depth)


def passed_through(row: Case | ReadRow) -> list[Level]:
    """The levels a case has been held at: from where it was received up to where it
    is now (a level it skipped holds no events of it and costs one lookup)."""
    here = row.level
    start = row.received_level or here
    return [lv for lv in LEVELS_BY_DEPTH if here.depth <= lv.depth <= start.depth]


def town_reviews_first(impl: MatterImplementation) -> bool:
    """Whether a case of ``impl`` received at a village goes to its town first (初审)."""
    return bool(
        impl.preliminary_review
        and Level.TOWN.value in impl.receive_levels
        and impl.level.depth < Level.TOWN.depth
    )


def next_hop(
    holding: Level, impl: MatterImplementation, review_town: tuple[str | None, str] | None
) -> Hop:
    """The town that reviews first (初审) when the case is at a village and the item
    asks for it — ``review_town`` is that town's (org code, division code; the org code
    None when the town store did not answer) — else the deciding org. A case at the
    deciding level (or above) cannot be referred."""
    if holding.depth <= impl.level.depth:
        raise DomainError(CaseErrorCode.NOT_REFERABLE, field=["input", "number"])
    if holding is Level.VILLAGE and town_reviews_first(impl):
        if review_town is None:
            raise DomainError(CaseErrorCode.NOT_REFERABLE, field=["input", "number"])
        return Hop(Level.TOWN, review_town[0], review_town[1], decides=False)
    return Hop(impl.level, impl.org_code, impl.division_code, decides=True)


def _payload(
    case: Case,
    materials: list[CaseMaterial],
    hop: Hop,
    opinion: str,
    promise: CaseTolerance | None = None,
) -> dict[str, Any]:
    return {
        "tolerance": tolerance.to_payload(promise),
        "number": case.number,
        "implementationCode": case.implementation_code,
        "basicCode": case.basic_code,
        "matterName": case.matter_name,
        "handlingKind": case.handling_kind.value,
        "applicantKind": case.applicant_kind.value,
        "applicantId": case.applicant_id,
        "applicantName": case.applicant_name,
        "applicantIdMasked": case.applicant_id_masked,
        "applicantPhone": case.applicant_phone,
        "applicantLanguage": case.applicant_language,
        "submittedBy": case.submitted_by,
        "channel": case.channel,
        "submittedAt": case.submitted_at.isoformat(),
        "legalLimitDays": case.legal_limit_days,
        "promisedLimitDays": case.promised_limit_days,
        "toleranceDeadline": case.tolerance_deadline.isoformat()
        if case.tolerance_deadline
        else None,
        "proxyAuthorizationId": case.proxy_authorization_id,
        "referralDueOn": _iso(case.referral_due_on),
        "referralYellowOn": _iso(case.referral_yellow_on),
        "receivedLevel": (case.received_level or case.level).value,
        "fromLevel": case.level.value,
        "orgCode": hop.org_code,
        "divisionCode": hop.division_code,
        "decides": hop.decides,
        "opinion": opinion or None,
        "reviewOpinions": list(case.review_opinions or []),
        "materials": [
            {
                "name": m.name,
                "source": m.source.value if m.source else None,
                "reference": m.reference,
                "state": m.state.value,
                "note": m.note,
            }
            for m in materials
        ],
    }


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def review_opinion(
    case: Case, actor: Actor, reviewer_name: str, text: str, now: dt.datetime
) -> dict[str, Any]:
    """An opinion given at the level that holds ``case`` as it refers it up: the level,
    the org, who gave it (and their posts), what it says, and when."""
    return {
        "level": case.level.value,
        "orgCode": case.org_code,
        "reviewerId": actor.id,
        "reviewerName": reviewer_name,
        "role": actor.role,
        "opinion": text,
        "at": now.isoformat(),
    }


async def refer_case(
    number: str,
    *,
    opinion: str | None,
    reviewer_name: str = "",
    expected_version: int | None,
    impl: MatterImplementation,
    review_town: tuple[str | None, str] | None,
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
) -> Case:
    """Refer the case held in ``session``'s store up its route; returns the case as it
    is here now (REFERRED). The message that carries it is in the trail's detail."""
    case = await load_case_for_update(number, session=session)
    _check_version(case, expected_version)
    if actor.kind == "STAFF" and actor.org_code != case.org_code:
        raise DomainError(CaseErrorCode.NOT_AT_THIS_ORG, field=["input", "number"])
    if case.status is not CaseStatus.SUBMITTED:
        raise DomainError(
            CaseErrorCode.INVALID_TRANSITION, detail=f"REFER from {case.status.value}"
        )
    if case.handling_kind is HandlingKind.IMMEDIATE and impl.level is case.level:
        raise DomainError(CaseErrorCode.NOT_REFERABLE, field=["input", "number"])
    hop = next_hop(case.level, impl, review_town)
    text = _text(opinion, 2000, "opinion")
    if case.level is Level.TOWN and impl.preliminary_review and not text:
        # the town reviews first: its opinion goes up with the case
        raise DomainError(CaseErrorCode.OPINION_REQUIRED, field=["input", "opinion"])
    materials = list(
        (
            await session.scalars(
                select(CaseMaterial)
                .where(CaseMaterial.case_number == number)
                .order_by(CaseMaterial.id)
            )
        ).all()
    )
    # 收集、审核、上报: what goes up is the whole file (the decider accepts on receipt)
    referral_rules.refuse_incomplete(materials)
    before = case.status
    with session.no_autoflush:
        if text:
            # it travels with the case: the deciders read it on the case
            given = review_opinion(case, actor, reviewer_name, text, now)
            case.review_opinions = [*(case.review_opinions or []), given]
        case.status = CaseStatus.REFERRED
        case.referred_to_level = hop.level
        case.updated_at = now
    await session.flush()
    message = await enqueue(
        session,
        topic=TOPIC,
        source=case.level,
        target=hop.level,
        payload=_payload(case, materials, hop, text, await tolerance.commitment(session, case)),
        now=now,
        case_number=number,
        target_division=hop.division_code,
    )
    detail = {"toOrg": hop.org_code} | ({"opinion": text} if text else {})
    await hand_over(
        session,
        case,
        message,
        actor=actor,
        action=REFER_ACTION,
        before=before,
        now=now,
        detail=detail,
    )
    return case


def _day(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


async def _centre_of(session: AsyncSession, division_code: str) -> str:
    """The service centre of a division, for a case referred while its store was down."""
    org = await session.scalar(
        select(ServiceOrg.code).where(ServiceOrg.division_code == division_code)
    )
    if org is None:
        raise DomainError(CaseErrorCode.NOT_REFERABLE, detail=division_code)
    return org


def _moves_up_here(held: Case, envelope: Envelope) -> bool:
    """Whether the row here is the case on its way up to a level this store holds too."""
    return (
        held.status is CaseStatus.REFERRED
        and held.referred_to_level is envelope.target_level
        and held.level is Level(envelope.payload["fromLevel"])
    )


async def _move_up(
    session: AsyncSession, case: Case, envelope: Envelope, org_code: str, now: dt.datetime
) -> None:
    """The referral arrives in the store it left (one node holds both levels): the same
    row is the case at the next level; its materials and commitment are here already."""
    p = envelope.payload
    decides = bool(p["decides"])
    today = china_date(now)
    if decides:
        impl = await session.get(MatterImplementation, p["implementationCode"])
        case.department_id = impl.department_id if impl else None
    case.level = envelope.target_level
    case.org_code = org_code
    # the division stays the receiving one: the station's ledger keeps finding the case,
    # and it lies under the jurisdiction of every org above it
    case.status = CaseStatus.ACCEPTED if decides else CaseStatus.SUBMITTED
    case.accepted_on = today if decides else None
    case.referred_to_level = None
    case.review_opinions = list(p.get("reviewOpinions") or []) or None
    case.referral_due_on = _day(p.get("referralDueOn"))
    case.referral_yellow_on = _day(p.get("referralYellowOn"))
    case.updated_at = now
    if decides:
        set_clock(case, [], await load_calendar(session=session), today)
    await session.flush()
    await _arrived(session, case, envelope, now)


@handler(TOPIC)
async def receive_referral(session: AsyncSession, envelope: Envelope, now: dt.datetime) -> None:
    """The next store takes the case: the deciding org accepts it on receipt, a
    reviewing town holds it for its preliminary review."""
    p = envelope.payload
    number = str(p["number"])
    held = await session.get(Case, number)
    if held is not None and not _moves_up_here(held, envelope):
        raise DomainError(CaseErrorCode.ALREADY_HERE, detail=number)
    org_code = p["orgCode"] or await _centre_of(session, p["divisionCode"])
    if held is not None:
        # one node holds both levels (a county node): the case moves up in place
        await _move_up(session, held, envelope, org_code, now)
        return
    level = envelope.target_level
    decides = bool(p["decides"])
    today = china_date(now)
    impl_dept = None
    if decides:
        impl = await session.get(MatterImplementation, p["implementationCode"])
        impl_dept = impl.department_id if impl else None
    case = Case(
        number=number,
        implementation_code=p["implementationCode"],
        basic_code=p["basicCode"],
        matter_name=p["matterName"],
        handling_kind=HandlingKind(p["handlingKind"]),
        level=level,
        org_code=org_code,
        division_code=p["divisionCode"],
        department_id=impl_dept,
        applicant_kind=ApplicantKind(p["applicantKind"]),
        applicant_id=p["applicantId"],
        applicant_name=p["applicantName"],
        applicant_id_masked=p["applicantIdMasked"],
        applicant_phone=p.get("applicantPhone"),
        applicant_language=p.get("applicantLanguage"),
        submitted_by=p["submittedBy"],
        channel=p["channel"],
        status=CaseStatus.ACCEPTED if decides else CaseStatus.SUBMITTED,
        legal_limit_days=int(p["legalLimitDays"]),
        promised_limit_days=int(p["promisedLimitDays"]),
        submitted_at=dt.datetime.fromisoformat(p["submittedAt"]),
        accepted_on=today if decides else None,
        tolerance_deadline=_day(p.get("toleranceDeadline")),
        proxy_authorization_id=p.get("proxyAuthorizationId"),
        received_level=Level(p["receivedLevel"]),
        review_opinions=list(p.get("reviewOpinions") or []) or None,
        # a town that reviews first holds it on the same referral deadline
        referral_due_on=_day(p.get("referralDueOn")),
        referral_yellow_on=_day(p.get("referralYellowOn")),
        version=1,
        updated_at=now,
    )
    if decides:
        set_clock(case, [], await load_calendar(session=session), today)
    session.add(case)
    await session.flush()
    session.add_all(
        CaseMaterial(
            case_number=number,
            name=m["name"],
            source=MaterialSource(m["source"]) if m["source"] else None,
            reference=m["reference"],
            state=MaterialState(m["state"]),
            note=m["note"],
        )
        for m in p["materials"]
    )
    if case.tolerance_deadline is not None:
        lapse_at = start_of_day_after(case.tolerance_deadline)
        await tolerance.arrive(session, case, p.get("tolerance"), lapse_at=lapse_at)
    await _arrived(session, case, envelope, now)


async def _arrived(session: AsyncSession, case: Case, envelope: Envelope, now: dt.datetime) -> None:
    """The receiving half of the hand-over, in the store the case arrived at: audited
    with the message (and the opinion it carries), and the applicant told when the
    deciding org has it."""
    detail = received(envelope, opinion=envelope.payload.get("opinion"))
    await record_event(session, case, relay(case.org_code), RECEIVE_ACTION, None, now, detail)
    if envelope.payload["decides"]:
        await notices.on_referral_received(session, case, now)
