"""The follow-ups of 好差评 at the node that holds their rows (DESIGN §2, "A node is a
service"): a rating's rectification (回访, 整改完成), its appeal (申诉 and the decision)
and complaints (投诉: filed, handled, the complainant's satisfaction), asked by the hub
and written by the rules of ``levels/evaluations/service.py`` in the node's own
transaction (``ratings.written``, which ``rateCase`` runs too): the change and its audit
event, and what a deadline passed does first (``flag_if_overdue``), together or
nothing.

Who may act is the hub's check, made on the row it read before it calls; the rules here
check the rest again (an open rectification, a pending appeal, the complainant …)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from levels.calendar.workdays import load_calendar
from levels.cases.service import Actor
from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from levels.evaluations import service
from levels.evaluations.enums import Satisfaction
from levels.evaluations.errors import EvaluationErrorCode as E
from levels.evaluations.models import Complaint, Evaluation, Rectification
from levels.node.ratings import written


@dataclass(frozen=True)
class FollowUpInput:
    """What a follow-up is given: ``text`` (the callback's note, the measures, the
    appeal's reason, the decision's note, the handling), ``uphold`` (a decision) and
    ``satisfaction`` (the complainant's)."""

    text: str | None = None
    uphold: bool | None = None
    satisfaction: Satisfaction | None = None


@dataclass(frozen=True)
class FollowUpOutcome:
    """The row as it now stands (None: refused, nothing written) and the refusal."""

    row: Evaluation | Rectification | Complaint | None
    error: DomainError | None = None


Change = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class FollowUp:
    """A follow-up: the row it changes (found by public id), the code when there is
    none, and the rule that changes it (by the row's id in this store)."""

    model: type[Evaluation | Rectification | Complaint]
    not_found: E
    change: Change
    # what it must be given besides ``text``: "uphold" or "satisfaction"
    needs: str | None = None


def _callback(rid: int, given: FollowUpInput, **kw: Any) -> Awaitable[Rectification]:
    return service.record_callback(rid, given.text or "", **kw)


def _complete(rid: int, given: FollowUpInput, **kw: Any) -> Awaitable[Rectification]:
    return service.complete_rectification(rid, given.text or "", **kw)


def _appeal(eid: int, given: FollowUpInput, **kw: Any) -> Awaitable[Evaluation]:
    return service.appeal_rating(eid, given.text or "", **kw)


def _decide(eid: int, given: FollowUpInput, **kw: Any) -> Awaitable[Evaluation]:
    return service.decide_appeal(eid, bool(given.uphold), given.text, **kw)


def _handle(cid: int, given: FollowUpInput, **kw: Any) -> Awaitable[Complaint]:
    return service.handle_complaint(cid, given.text or "", **kw)


def _satisfaction(cid: int, given: FollowUpInput, **kw: Any) -> Awaitable[Complaint]:
    assert given.satisfaction is not None
    return service.rate_complaint_handling(cid, given.satisfaction, **kw)


FOLLOW_UPS: dict[str, FollowUp] = {
    "RECORD_CALLBACK": FollowUp(Rectification, E.RECTIFICATION_NOT_FOUND, _callback),
    "COMPLETE_RECTIFICATION": FollowUp(Rectification, E.RECTIFICATION_NOT_FOUND, _complete),
    "APPEAL_RATING": FollowUp(Evaluation, E.RATING_NOT_FOUND, _appeal),
    "DECIDE_APPEAL": FollowUp(Evaluation, E.RATING_NOT_FOUND, _decide, "uphold"),
    "HANDLE_COMPLAINT": FollowUp(Complaint, E.COMPLAINT_NOT_FOUND, _handle),
    "RATE_COMPLAINT_HANDLING": FollowUp(
        Complaint, E.COMPLAINT_NOT_FOUND, _satisfaction, "satisfaction"
    ),
}


def follow_up_of(action: str, given: FollowUpInput) -> FollowUp:
    """The follow-up ``action`` names, given what it needs; else BAD_USER_INPUT."""
    follow = FOLLOW_UPS.get(action)
    if follow is None:
        raise DomainError(ErrorCode.BAD_USER_INPUT, field=["action"], detail=action[:40])
    if follow.needs is not None and getattr(given, follow.needs) is None:
        raise DomainError(ErrorCode.BAD_USER_INPUT, field=[follow.needs])
    return follow


async def follow_up(
    sessions: async_sessionmaker[AsyncSession],
    action: str,
    public_id: str,
    given: FollowUpInput,
    *,
    level: Level,
    actor: Actor,
    now: dt.datetime,
) -> FollowUpOutcome:
    """Follow-up ``action`` of the row with ``public_id`` (kept at ``level``) in this
    node's transaction; a refusal writes nothing."""
    follow = follow_up_of(action, given)
    model = follow.model

    async def work(session: AsyncSession) -> Any:
        row_id = await session.scalar(select(model.id).where(model.public_id == public_id))
        if row_id is None:
            raise DomainError(follow.not_found, field=["input", "id"])
        return await follow.change(
            row_id, given, level=level.value, session=session, actor=actor, now=now
        )

    row, error = await written(sessions, work)
    return FollowUpOutcome(row, error)


def encode_draft(draft: service.ComplaintDraft) -> dict[str, Any]:
    """A complaint as the hub placed it (its org, division, case, window, staff), as
    ``fileComplaint`` takes it."""
    return asdict(draft)


def decode_draft(given: Mapping[str, Any] | Any) -> service.ComplaintDraft:
    """``encode_draft``'s JSON back; BAD_USER_INPUT when it is not one."""
    try:
        draft = service.ComplaintDraft(**given)
    except TypeError:
        raise DomainError(ErrorCode.BAD_USER_INPUT, field=["complaint"]) from None
    texts = (draft.content, draft.org_code, draft.division_code)
    optional = (draft.case_number, draft.window_id, draft.staff_id)
    if not all(isinstance(t, str) for t in texts) or not all(
        t is None or isinstance(t, str) for t in optional
    ):
        raise DomainError(ErrorCode.BAD_USER_INPUT, field=["complaint"])
    return draft


async def file_complaint(
    sessions: async_sessionmaker[AsyncSession],
    draft: service.ComplaintDraft,
    *,
    level: Level,
    actor: Actor,
    now: dt.datetime,
    complaint_days: int,
) -> FollowUpOutcome:
    """投诉 kept here, at ``level``, due ``complaint_days`` working days on by this
    node's calendar, in this node's transaction; a refusal writes nothing."""

    async def work(session: AsyncSession) -> Complaint:
        return await service.file_complaint(
            draft,
            level=level.value,
            session=session,
            actor=actor,
            now=now,
            calendar=await load_calendar(session=session),
            complaint_days=complaint_days,
        )

    row, error = await written(sessions, work)
    return FollowUpOutcome(row, error)
