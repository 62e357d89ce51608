"""Deadlines of 整改 and 投诉 as rows, flagged by the worker's pass: a rectification or
a complaint still OPEN the day after its ``due_on`` is marked overdue (``overdue_at``)
with an audit event (RECTIFICATION_OVERDUE, COMPLAINT_OVERDUE), once — the flag is
set in the same transaction as the event by an update that claims it, and a row
already flagged, closed in the meantime, or claimed by another worker (``SKIP LOCKED``
on PostgreSQL) is skipped. A
restart forgets nothing: the next pass finds what is still due."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from levels.cases.service import SYSTEM, china_date
from levels.common.claims import claim
from levels.evaluations.enums import (
    COMPLAINT_OVERDUE,
    RECTIFICATION_OVERDUE,
    ComplaintStatus,
    RectificationStatus,
)
from levels.evaluations.models import Complaint, Rectification
from levels.evaluations.service import audit_event


async def _flag(
    sessions: async_sessionmaker[AsyncSession],
    model: Any,
    open_status: Any,
    action: str,
    id_key: str,
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
            # the claim itself: whether this pass is the one that flags the row
            if not await claim(
                session,
                update(model)
                .where(model.id == row_id, model.overdue_at.is_(None))
                .values(overdue_at=now),
            ):
                continue
            await audit_event(
                session, SYSTEM, level, action, now,
                case_number=row.case_number, before=row.status.value, after=row.status.value,
                detail={id_key: row.id, "dueOn": row.due_on.isoformat(),
                        "orgCode": row.org_code},
            )  # fmt: skip
            flagged += 1
    return flagged


async def flag_overdue(
    sessions: async_sessionmaker[AsyncSession], *, level: str, now: dt.datetime, limit: int = 500
) -> int:
    """Flag the open rectifications and complaints of one node that are past their
    deadline at ``now``; returns how many were flagged by this pass."""
    rectifications = await _flag(
        sessions, Rectification, RectificationStatus.OPEN, RECTIFICATION_OVERDUE, "rectificationId",
        level=level, now=now, limit=limit,
    )  # fmt: skip
    complaints = await _flag(
        sessions, Complaint, ComplaintStatus.OPEN, COMPLAINT_OVERDUE, "complaintId",
        level=level, now=now, limit=limit,
    )  # fmt: skip
    return rectifications + complaints
