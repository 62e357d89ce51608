"""Deadlines of 整改 and 投诉 as rows, flagged by the worker's pass: a rectification or
a complaint still OPEN the day after its ``due_on`` is marked overdue (``overdue_at``)
with an audit event (RECTIFICATION_OVERDUE, COMPLAINT_OVERDUE), once — the flag is
set in the same transaction as the event by an update that claims it, and a row
already flagged, closed in the meantime, or claimed by another worker (``SKIP LOCKED``
on PostgreSQL) is skipped. A
restart forgets nothing: the next pass finds what is still due. The rule is
``flag_if_overdue``, which every write to a rectification or complaint applies first."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from levels.cases.service import china_date
from levels.evaluations.enums import ComplaintStatus, RectificationStatus
from levels.evaluations.models import Complaint, Rectification
from levels.evaluations.service import flag_if_overdue


async def _flag(
    sessions: async_sessionmaker[AsyncSession],
    model: Any,
    open_status: Any,
    *,
    level: str,
    now: dt.datetime,
    limit: int,
) -> int:
    today = china_date(now)

    def due() -> Any:
        return select(model).where(
            model.status == open_status, model.due_on < today, model.overdue_at.is_(None)
        )

    async with sessions() as session:
        ids = (
            await session.scalars(
                due().with_only_columns(model.id).order_by(model.due_on, model.id).limit(limit)
            )
        ).all()
    flagged = 0
    for row_id in ids:
        async with sessions.begin() as session:
            row = await session.scalar(
                due().where(model.id == row_id).with_for_update(skip_locked=True)
            )
            if row is None:  # closed, flagged or claimed meanwhile
                continue
            # the rule itself, shared with the writes (levels/evaluations/service.py)
            if await flag_if_overdue(session, row, level=level, now=now):
                flagged += 1
    return flagged


async def flag_overdue(
    sessions: async_sessionmaker[AsyncSession], *, level: str, now: dt.datetime, limit: int = 500
) -> int:
    """Flag the open rectifications and complaints of one node that are past their
    deadline at ``now``; returns how many were flagged by this pass."""
    rectifications = await _flag(
        sessions, Rectification, RectificationStatus.OPEN, level=level, now=now, limit=limit
    )
    complaints = await _flag(
        sessions, Complaint, ComplaintStatus.OPEN, level=level, now=now, limit=limit
    )
    return rectifications + complaints
