"""The rules of 好差评 and complaints. Functions take ``*, session`` (the node that
holds the case, window or staff member), the acting ``Actor``, the hub's ``now`` and,
for deadlines, the node's working-day calendar; every change is written together with
its audit event, or not at all.

* A case is rated once it has a result (``RESULT_STATUSES``), by its applicant, once
  per channel. The rating records who handled the case: the staff member of its last
  deciding step (decision, completion on the spot, refusal, else acceptance), its
  department, window (the output window, else the receiving one), org and matter.
* A 差评 (DISSATISFIED, VERY_DISSATISFIED) opens a rectification in the same
  transaction, due ``rectification_days`` working days after the day of the rating.
  It is completed only after the callback (回访) to the applicant.
* The staff may appeal a 差评 once. A supervisor upholds the appeal (the rating was
  unfair: it is left out of every roll-up and its rectification is VOIDED) or dismisses
  it (the rating stands and the rectification keeps its deadline; no second appeal).
* A complaint is handled within ``complaint_days`` working days; the complainant then
  says, once, whether they are satisfied with the handling.
* An open rectification or complaint past its deadline is flagged overdue
  (``flag_if_overdue``: ``overdue_at`` and a RECTIFICATION_OVERDUE / COMPLAINT_OVERDUE
  event, once) by the worker's pass (``levels/evaluations/timers``), and by any write
  to it first, in the write's transaction: one called back, completed, voided or
  handled late is flagged whether or not a pass has run.

Who may act is decided before these run (``auth/policy.py``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from levels.audit.chain import EventDraft, append
from levels.audit.models import AuditEvent
from levels.calendar.workdays import WorkCalendar
from levels.cases.enums import CaseStatus
from levels.cases.models import Case
from levels.cases.service import SYSTEM, Actor, china_date
from levels.common.claims import claim
from levels.common.errors import DomainError
from levels.common.ranges import within
from levels.evaluations.enums import (
    COMPLAINT_OVERDUE,
    NEGATIVE,
    RECTIFICATION_OVERDUE,
    AppealStatus,
    ComplaintStatus,
    RatingLevel,
    RectificationStatus,
    RollupDimension,
    Satisfaction,
)
from levels.evaluations.errors import EvaluationErrorCode as E
from levels.evaluations.models import Complaint, Evaluation, Rectification

DEFAULT_RECTIFICATION_DAYS = 5
DEFAULT_COMPLAINT_DAYS = 5
COMMENT_MAX = 500
TEXT_MAX = 2000
# a case has a result (办结) from these on, and may be rated
RESULT_STATUSES = frozenset(
    {
        CaseStatus.APPROVED,
        CaseStatus.DENIED,
        CaseStatus.ISSUED,
        CaseStatus.DELIVERED,
        CaseStatus.ARCHIVED,
        CaseStatus.COMPLETED,
        CaseStatus.REJECTED,
    }
)
# whose step the rating is about, most telling first
HANDLING_STEPS = ("DECIDE", "COMPLETE", "REJECT", "ACCEPT", "CORRECT_ON_SPOT")


def _text(value: str | None, limit: int, field: str, *, required: bool = False) -> str | None:
    text = (value or "").strip()
    if required and not text:
        raise DomainError(E.TEXT_REQUIRED, field=["input", field])
    if len(text) > limit:
        raise DomainError(E.TEXT_TOO_LONG, field=["input", field], detail=f"≤ {limit}")
    return text or None


async def audit_event(
    session: AsyncSession,
    actor: Actor,
    level: str,
    action: str,
    now: dt.datetime,
    *,
    case_number: str | None,
    before: str | None,
    after: str | None,
    detail: dict[str, Any],
    division_code: str | None = None,
) -> None:
    """The event of a change, in the chain of ``division_code`` when given (a
    complaint's: one without a case is still its division's), else of its case's."""
    await append(
        EventDraft(
            actor_id=actor.id,
            actor_kind=actor.kind,
            role=actor.role,
            channel=actor.channel,
            org_code=actor.org_code,
            level=level,
            action=action,
            case_number=case_number,
            before=before,
            after=after,
            detail=detail,
            request_id=actor.request_id,
            division_code=division_code,
        ),
        session=session,
        now=now,
    )


def _chain_of(row: Rectification | Complaint) -> str | None:
    """The division whose audit chain a row's events go to when it has no case (a
    complaint about a window or a staff member: its org's division); None: its case's."""
    return row.division_code if row.case_number is None else None


# what an overdue row is flagged with: its open status, audit action and key in the detail
_OVERDUE: dict[type[Any], tuple[Any, str, str]] = {
    Rectification: (RectificationStatus.OPEN, RECTIFICATION_OVERDUE, "rectificationId"),
    Complaint: (ComplaintStatus.OPEN, COMPLAINT_OVERDUE, "complaintId"),
}


async def flag_if_overdue(
    session: AsyncSession, row: Rectification | Complaint, *, level: str, now: dt.datetime
) -> bool:
    """Flag an open rectification or complaint whose deadline has passed at ``now``
    (the day after ``due_on``): ``overdue_at`` and its audit event, in the caller's
    transaction, once — a conditional UPDATE claims the flag, so the worker's pass and a
    write never both flag it. True when this call flagged it."""
    model = type(row)
    open_status, action, id_key = _OVERDUE[model]
    if row.status is not open_status or row.overdue_at is not None:
        return False
    if china_date(now) <= row.due_on:
        return False
    if not await claim(
        session,
        update(model).where(model.id == row.id, model.overdue_at.is_(None)).values(overdue_at=now),
    ):
        return False
    set_committed_value(row, "overdue_at", now)
    await audit_event(
        session, SYSTEM, level, action, now,
        case_number=row.case_number, before=row.status.value, after=row.status.value,
        detail={id_key: row.id, "dueOn": row.due_on.isoformat(), "orgCode": row.org_code},
        division_code=_chain_of(row),
    )  # fmt: skip
    return True


async def _handler(session: AsyncSession, number: str) -> str | None:
    """The staff member who took the case's most telling step."""
    rows = await session.execute(
        select(AuditEvent.action, AuditEvent.actor_id)
        .where(
            AuditEvent.case_number == number,
            AuditEvent.actor_kind == "STAFF",
            AuditEvent.action.in_(HANDLING_STEPS),
        )
        .order_by(AuditEvent.at.desc(), AuditEvent.seq.desc())
    )
    by_action: dict[str, str] = {}
    for action, actor_id in rows:
        by_action.setdefault(action, actor_id)
    return next((by_action[a] for a in HANDLING_STEPS if a in by_action), None)


@dataclass(frozen=True)
class Rated:
    evaluation: Evaluation
    rectification: Rectification | None


async def rate_case(
    number: str,
    rating: RatingLevel,
    comment: str | None,
    *,
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    calendar: WorkCalendar,
    rectification_days: int = DEFAULT_RECTIFICATION_DAYS,
) -> Rated:
    """好差评 of a case by its applicant on the actor's channel; a 差评 opens its
    rectification. A refused rating changes nothing."""
    case_row = await session.get(Case, number)
    if case_row is None:
        raise DomainError(E.CASE_NOT_FOUND, field=["input", "caseNumber"])
    if actor.id != case_row.applicant_id:
        raise DomainError(E.NOT_THE_APPLICANT, field=["input", "caseNumber"])
    if case_row.status not in RESULT_STATUSES:
        raise DomainError(E.NO_RESULT_YET, field=["input", "caseNumber"])
    if not actor.channel:
        raise DomainError(E.CHANNEL_REQUIRED)
    text = _text(comment, COMMENT_MAX, "comment")
    taken = await session.scalar(
        select(Evaluation.id).where(
            Evaluation.case_number == number, Evaluation.channel == actor.channel
        )
    )
    if taken is not None:
        raise DomainError(E.ALREADY_RATED, field=["input", "caseNumber"])
    row = Evaluation(
        case_number=number,
        channel=actor.channel,
        rating=rating,
        negative=rating in NEGATIVE,
        comment=text,
        rated_by=actor.id,
        rated_at=now,
        staff_id=await _handler(session, number),
        department_id=case_row.department_id,
        window_id=case_row.delivery_window_id or case_row.received_window_id,
        org_code=case_row.org_code,
        division_code=case_row.division_code,
        basic_code=case_row.basic_code,
        matter_name=case_row.matter_name,
    )
    session.add(row)
    await session.flush()
    level = case_row.level.value
    detail = {"evaluationId": row.id, "rating": rating.value, "staffId": row.staff_id}
    await audit_event(
        session, actor, level, "RATE_CASE", now,
        case_number=number, before=None, after=rating.value, detail=detail,
    )  # fmt: skip
    rectification = None
    if row.negative:
        due = calendar.add_working_days(china_date(now), rectification_days)
        rectification = Rectification(
            evaluation_id=row.id,
            case_number=number,
            applicant_id=actor.id,
            org_code=case_row.org_code,
            division_code=case_row.division_code,
            status=RectificationStatus.OPEN,
            opened_at=now,
            due_on=due,
        )
        session.add(rectification)
        await session.flush()
        await audit_event(
            session, actor, level, "OPEN_RECTIFICATION", now,
            case_number=number, before=None, after=RectificationStatus.OPEN.value,
            detail={"rectificationId": rectification.id, "dueOn": due.isoformat()},
        )  # fmt: skip
    return Rated(row, rectification)


async def _rectification(session: AsyncSession, rid: int) -> Rectification:
    row = await session.get(Rectification, rid, with_for_update=True, populate_existing=True)
    if row is None:
        raise DomainError(E.RECTIFICATION_NOT_FOUND, field=["input", "id"])
    return row


def _open(row: Rectification) -> None:
    if row.status is not RectificationStatus.OPEN:
        raise DomainError(E.RECTIFICATION_CLOSED, field=["input", "id"])


async def record_callback(
    rid: int, note: str, *, level: str, session: AsyncSession, actor: Actor, now: dt.datetime
) -> Rectification:
    """回访: who called the applicant back, when, and what they said."""
    row = await _rectification(session, rid)
    await flag_if_overdue(session, row, level=level, now=now)
    _open(row)
    row.callback_note = _text(note, TEXT_MAX, "note", required=True)
    row.callback_by, row.callback_at = actor.id, now
    await session.flush()
    await audit_event(
        session, actor, level, "RECORD_CALLBACK", now,
        case_number=row.case_number, before=row.status.value, after=row.status.value,
        detail={"rectificationId": row.id, "note": row.callback_note},
    )  # fmt: skip
    return row


async def complete_rectification(
    rid: int, measures: str, *, level: str, session: AsyncSession, actor: Actor, now: dt.datetime
) -> Rectification:
    """整改完成: what was done; only after the callback."""
    row = await _rectification(session, rid)
    await flag_if_overdue(session, row, level=level, now=now)
    _open(row)
    text = _text(measures, TEXT_MAX, "measures", required=True)
    if row.callback_at is None:
        raise DomainError(E.CALLBACK_REQUIRED, field=["input", "id"])
    row.measures, row.completed_by, row.completed_at = text, actor.id, now
    row.status = RectificationStatus.COMPLETED
    await session.flush()
    await audit_event(
        session, actor, level, "COMPLETE_RECTIFICATION", now,
        case_number=row.case_number, before=RectificationStatus.OPEN.value,
        after=row.status.value, detail={"rectificationId": row.id, "onTime": not overdue(row, now)},
    )  # fmt: skip
    return row


def overdue(row: Rectification, now: dt.datetime) -> bool:
    end = row.completed_at or now
    return china_date(end) > row.due_on


async def _evaluation(session: AsyncSession, eid: int) -> Evaluation:
    row = await session.get(Evaluation, eid, with_for_update=True, populate_existing=True)
    if row is None:
        raise DomainError(E.RATING_NOT_FOUND, field=["input", "id"])
    return row


async def appeal_rating(
    eid: int, reason: str, *, level: str, session: AsyncSession, actor: Actor, now: dt.datetime
) -> Evaluation:
    """申诉: the staff believe a 差评 unfair; once per rating."""
    row = await _evaluation(session, eid)
    if not row.negative:
        raise DomainError(E.NOT_A_BAD_RATING, field=["input", "id"])
    if row.appeal_status is not None:
        raise DomainError(E.ALREADY_APPEALED, field=["input", "id"])
    row.appeal_reason = _text(reason, TEXT_MAX, "reason", required=True)
    row.appeal_status, row.appealed_by, row.appealed_at = AppealStatus.PENDING, actor.id, now
    await session.flush()
    await audit_event(
        session, actor, level, "APPEAL_RATING", now,
        case_number=row.case_number, before=None, after=AppealStatus.PENDING.value,
        detail={"evaluationId": row.id, "reason": row.appeal_reason},
    )  # fmt: skip
    return row


async def decide_appeal(
    eid: int,
    uphold: bool,
    note: str | None,
    *,
    level: str,
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
) -> Evaluation:
    """A supervisor upholds the appeal (the rating leaves the figures, its open
    rectification is VOIDED) or dismisses it (all stays as it was)."""
    row = await _evaluation(session, eid)
    if row.appeal_status is not AppealStatus.PENDING:
        raise DomainError(E.NO_PENDING_APPEAL, field=["input", "id"])
    row.appeal_note = _text(note, TEXT_MAX, "note", required=not uphold)
    row.appeal_status = AppealStatus.UPHELD if uphold else AppealStatus.DISMISSED
    row.appeal_decided_by, row.appeal_decided_at = actor.id, now
    if uphold:
        rect = await session.scalar(
            select(Rectification).where(Rectification.evaluation_id == row.id).with_for_update()
        )
        if rect is not None and rect.status is RectificationStatus.OPEN:
            # voided late: it was overdue first, as a pass would have found it
            await flag_if_overdue(session, rect, level=level, now=now)
            rect.status = RectificationStatus.VOIDED
    await session.flush()
    await audit_event(
        session, actor, level, "DECIDE_APPEAL", now,
        case_number=row.case_number, before=AppealStatus.PENDING.value,
        after=row.appeal_status.value, detail={"evaluationId": row.id, "note": row.appeal_note},
    )  # fmt: skip
    return row


async def rectifications_by_evaluation(
    ids: Sequence[int], *, session: AsyncSession
) -> Sequence[Rectification]:
    return (
        await session.scalars(select(Rectification).where(Rectification.evaluation_id.in_(ids)))
    ).all()


async def evaluations_by_case(
    numbers: Sequence[str], *, session: AsyncSession
) -> Sequence[Evaluation]:
    return (
        await session.scalars(
            select(Evaluation)
            .where(Evaluation.case_number.in_(numbers))
            .order_by(Evaluation.rated_at, Evaluation.id)
        )
    ).all()


async def by_public_id(model: Any, keys: Sequence[str], *, session: AsyncSession) -> Sequence[Any]:
    """Ratings, rectifications or complaints of one node by public key (``node(id:)``)."""
    return (await session.scalars(select(model).where(model.public_id.in_(keys)))).all()


# -- roll-up ---------------------------------------------------------------------------

_COLUMNS = {
    RollupDimension.STAFF: Evaluation.staff_id,
    RollupDimension.WINDOW: Evaluation.window_id,
    RollupDimension.DEPARTMENT: Evaluation.department_id,
    RollupDimension.ORG: Evaluation.org_code,
    RollupDimension.MATTER: Evaluation.basic_code,
}


@dataclass
class Tally:
    """Ratings of one staff member, window, department, org or matter."""

    key: str | None
    counts: dict[RatingLevel, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def negative(self) -> int:
        return sum(n for level, n in self.counts.items() if level in NEGATIVE)

    @property
    def negative_rate(self) -> float:
        return round(self.negative / self.total, 4) if self.total else 0.0


def rollup_query(
    dimension: RollupDimension,
    *,
    prefix: str,
    rated_from: dt.datetime | None = None,
    rated_before: dt.datetime | None = None,
) -> Select[str | None, RatingLevel, int]:
    """Counts per key and level: ratings whose appeal was upheld are left out."""
    key = _COLUMNS[dimension]
    stmt = select(key, Evaluation.rating, func.count()).where(
        within(Evaluation.division_code, prefix),
        or_(Evaluation.appeal_status.is_(None), Evaluation.appeal_status != AppealStatus.UPHELD),
    )
    if rated_from is not None:
        stmt = stmt.where(Evaluation.rated_at >= rated_from)
    if rated_before is not None:
        stmt = stmt.where(Evaluation.rated_at < rated_before)
    return stmt.group_by(key, Evaluation.rating)


def merge_tallies(rows: Sequence[Sequence[Any]]) -> list[Tally]:
    """Counts from several nodes, one tally per key (most ratings first)."""
    tallies: dict[str | None, Tally] = {}
    for key, rating, count in rows:
        tally = tallies.setdefault(key, Tally(key, dict.fromkeys(RatingLevel, 0)))
        tally.counts[RatingLevel(rating)] += int(count)
    return sorted(tallies.values(), key=lambda t: (-t.total, t.key or ""))


# -- complaints ------------------------------------------------------------------------


@dataclass(frozen=True)
class ComplaintDraft:
    content: str
    org_code: str
    division_code: str
    case_number: str | None = None
    window_id: str | None = None
    staff_id: str | None = None


async def file_complaint(
    draft: ComplaintDraft,
    *,
    level: str,
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    calendar: WorkCalendar,
    complaint_days: int = DEFAULT_COMPLAINT_DAYS,
) -> Complaint:
    if not (draft.case_number or draft.window_id or draft.staff_id):
        raise DomainError(E.COMPLAINT_TARGET_REQUIRED, field=["input"])
    content = _text(draft.content, TEXT_MAX, "content", required=True)
    assert content is not None
    row = Complaint(
        case_number=draft.case_number,
        window_id=draft.window_id,
        staff_id=draft.staff_id,
        org_code=draft.org_code,
        division_code=draft.division_code,
        complainant_id=actor.id,
        channel=actor.channel or "UNKNOWN",
        content=content,
        filed_at=now,
        due_on=calendar.add_working_days(china_date(now), complaint_days),
        status=ComplaintStatus.OPEN,
    )
    session.add(row)
    await session.flush()
    await audit_event(
        session, actor, level, "FILE_COMPLAINT", now,
        case_number=draft.case_number, before=None, after=row.status.value,
        detail={"complaintId": row.id, "windowId": row.window_id, "staffId": row.staff_id,
                "dueOn": row.due_on.isoformat()},
        division_code=_chain_of(row),
    )  # fmt: skip
    return row


async def _complaint(session: AsyncSession, cid: int) -> Complaint:
    row = await session.get(Complaint, cid, with_for_update=True, populate_existing=True)
    if row is None:
        raise DomainError(E.COMPLAINT_NOT_FOUND, field=["input", "id"])
    return row


async def handle_complaint(
    cid: int, handling: str, *, level: str, session: AsyncSession, actor: Actor, now: dt.datetime
) -> Complaint:
    row = await _complaint(session, cid)
    await flag_if_overdue(session, row, level=level, now=now)
    if row.status is not ComplaintStatus.OPEN:
        raise DomainError(E.COMPLAINT_ALREADY_HANDLED, field=["input", "id"])
    row.handling = _text(handling, TEXT_MAX, "handling", required=True)
    row.handled_by, row.handled_at = actor.id, now
    row.status = ComplaintStatus.HANDLED
    await session.flush()
    await audit_event(
        session, actor, level, "HANDLE_COMPLAINT", now,
        case_number=row.case_number, before=ComplaintStatus.OPEN.value, after=row.status.value,
        detail={"complaintId": row.id, "onTime": china_date(now) <= row.due_on},
        division_code=_chain_of(row),
    )  # fmt: skip
    return row


async def rate_complaint_handling(
    cid: int,
    satisfaction: Satisfaction,
    *,
    level: str,
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
) -> Complaint:
    """The complainant says whether the handling satisfied them, once it is handled,
    and only once."""
    row = await _complaint(session, cid)
    if row.complainant_id != actor.id:
        raise DomainError(E.NOT_THE_COMPLAINANT, field=["input", "id"])
    if row.status is not ComplaintStatus.HANDLED:
        raise DomainError(E.COMPLAINT_NOT_HANDLED, field=["input", "id"])
    if row.satisfaction is not None:
        raise DomainError(E.SATISFACTION_GIVEN, field=["input", "id"])
    before = None
    row.satisfaction, row.satisfaction_at = satisfaction, now
    await session.flush()
    await audit_event(
        session, actor, level, "RATE_COMPLAINT_HANDLING", now,
        case_number=row.case_number, before=before, after=satisfaction.value,
        detail={"complaintId": row.id},
        division_code=_chain_of(row),
    )  # fmt: skip
    return row
