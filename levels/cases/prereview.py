"""网上预审 (001 "收到网上申请后应于2个工作日…内将预审结果…告知申请人"): an application that
arrived online (channel WEB or MOBILE, as the session it came from says) is
pre-reviewed, and the result told to the applicant, within 2 working days of receipt.

* The clock opens on submission: due ``PRE_REVIEW_DAYS`` working days after the day it
  was received (chinesecalendar's working days, through the node's calendar); its
  yellow card falls due once ``YELLOW_SHARE`` of that is used, its red card the day
  after — timer rows (PRE_REVIEW_WARNING, PRE_REVIEW_DUE) fired by the worker's pass or
  by the next write to the case (``levels/cases/deadline_cards.py``). Past its due day
  with no result, the case is flagged ``prereview_overdue`` for good.
* Staff of the org record the result once, while the case waits to be taken up:
  PASSED, or INCOMPLETE with every material missing or wrong (each one of the case's
  materials, with a note). The message the applicant is told is composed then and
  kept as told; the applicant reads it on the case.
* Taking the case up (a notice of supplement, an acceptance, a refusal) or a
  withdrawal answers the application too: the pre-review clock then stops, and no
  pre-review follows (PRE_REVIEW_CLOSED).
* Late is not refused: a result recorded after the due day is still told, and the
  card and flag the deadline earned stay."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

from levels.calendar.workdays import WorkCalendar
from levels.cases.clocks import YELLOW_SHARE, deadline_state
from levels.cases.enums import CaseStatus, ClockState, PreReviewResult, TimerKind
from levels.cases.errors import CaseErrorCode
from levels.cases.models import Case, CaseMaterial, CaseTimer
from levels.cases.procedures import midnight
from levels.common.clock import CHINA
from levels.common.errors import DomainError
from levels.common.reads import ReadRow

# an application made online: the channels supervision counts as ``online`` too
ONLINE_CHANNELS = ("WEB", "MOBILE")
PRE_REVIEW_DAYS = 2
TIMERS = (TimerKind.PRE_REVIEW_WARNING, TimerKind.PRE_REVIEW_DUE)
PRE_REVIEW_ACTION = "PRE_REVIEW"
NOTE_LENGTH = 2000


def due_on(channel: str, calendar: WorkCalendar, received_on: dt.date) -> dt.date | None:
    """The last working day to tell the result of an application that arrived on
    ``channel``; None when it did not arrive online."""
    if channel not in ONLINE_CHANNELS:
        return None
    return calendar.add_working_days(received_on, PRE_REVIEW_DAYS)


def _received_on(case: Case | ReadRow) -> dt.date:
    return case.submitted_at.astimezone(CHINA).date()


def yellow_on(case: Case | ReadRow, calendar: WorkCalendar) -> dt.date | None:
    if case.prereview_due_on is None:
        return None
    used = math.ceil(PRE_REVIEW_DAYS * YELLOW_SHARE)
    return calendar.add_working_days(_received_on(case), used)


def timers(case: Case, calendar: WorkCalendar) -> list[CaseTimer]:
    """The timers of an online case's pre-review clock (none for any other case)."""
    due, yellow = case.prereview_due_on, yellow_on(case, calendar)
    if due is None or yellow is None:
        return []
    return [
        CaseTimer(
            case_number=case.number, kind=TimerKind.PRE_REVIEW_WARNING, due_at=midnight(yellow)
        ),
        CaseTimer(
            case_number=case.number,
            kind=TimerKind.PRE_REVIEW_DUE,
            due_at=midnight(due + dt.timedelta(days=1)),
        ),
    ]


def waiting(case: Case | ReadRow) -> bool:
    """The pre-review clock runs: online, no result yet, not taken up or withdrawn."""
    return (
        case.prereview_due_on is not None
        and case.prereview_result is None
        and case.status is CaseStatus.SUBMITTED
    )


def state(case: Case | ReadRow, today: dt.date, yellow: dt.date | None) -> ClockState:
    if not waiting(case) or case.prereview_due_on is None:
        return ClockState.STOPPED
    return deadline_state(case.prereview_due_on, yellow, today)


def _message(case: Case, result: PreReviewResult, missing: Sequence[dict[str, Any]]) -> str:
    received = _received_on(case)
    day = f"{received.year}年{received.month}月{received.day}日"
    head = f"您于{day}在网上提交的“{case.matter_name}”申请（{case.number}）"
    if result is PreReviewResult.PASSED:
        return f"{head}已通过预审，请等待受理。"
    items = "；".join(
        f"{n}. {m['name']}" + (f"（{m['note']}）" if m.get("note") else "")
        for n, m in enumerate(missing, start=1)
    )
    return f"{head}预审未通过，请一次补充或更正以下材料：{items}。"


def record(
    case: Case,
    result: PreReviewResult,
    missing: Sequence[tuple[str, str | None]],
    materials: Mapping[str, CaseMaterial],
    *,
    reviewer: str,
    now: dt.datetime,
) -> dict[str, Any]:
    """Record the pre-review result of an online case and the message told to its
    applicant; what the audit trail keeps of it."""
    if case.prereview_due_on is None:
        raise DomainError(CaseErrorCode.NOT_AN_ONLINE_APPLICATION, field=["input", "number"])
    if case.prereview_result is not None:
        raise DomainError(CaseErrorCode.PRE_REVIEW_ALREADY_GIVEN, field=["input", "number"])
    if case.status is not CaseStatus.SUBMITTED:
        raise DomainError(
            CaseErrorCode.PRE_REVIEW_CLOSED, field=["input", "number"], detail=case.status.value
        )
    if (result is PreReviewResult.PASSED) == bool(missing):
        raise DomainError(CaseErrorCode.PRE_REVIEW_LIST_MISMATCH, field=["input", "missing"])
    listed: list[dict[str, Any]] = []
    for i, (name, note) in enumerate(missing):
        where = ["input", "missing", str(i)]
        if name not in materials or any(m["name"] == name for m in listed):
            raise DomainError(CaseErrorCode.MATERIAL_NOT_IN_GUIDE, field=[*where, "name"])
        text = (note or "").strip()
        if len(text) > NOTE_LENGTH:
            raise DomainError(CaseErrorCode.TEXT_TOO_LONG, field=[*where, "note"])
        listed.append({"name": name, "note": text or None})
    late = now.astimezone(CHINA).date() > case.prereview_due_on
    case.prereview_result = result
    case.prereview_missing = listed or None
    case.prereview_message = _message(case, result, listed)
    case.prereview_by = reviewer
    case.prereview_at = now
    case.prereview_overdue = case.prereview_overdue or late
    return {"result": result.value, "missing": listed, "late": late}
