"""网上预审, the write: staff of the org tell the applicant of an online application the
pre-review result (the rules: ``levels/cases/prereview.py``). The case keeps its
status; its version moves, and the step is audited with what was told."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.cases import prereview
from levels.cases.enums import PreReviewResult
from levels.cases.models import Case, CaseMaterial, CaseTimer
from levels.cases.service import (
    Actor,
    _at_org,
    _check_version,
    load_case_for_update,
    record_event,
)


async def record_pre_review(
    number: str,
    result: PreReviewResult,
    missing: Sequence[tuple[str, str | None]],
    *,
    expected_version: int | None,
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
) -> Case:
    """Record the result of ``number``'s pre-review and the message told to its
    applicant, in the caller's transaction; its pre-review timers are cancelled."""
    case = await load_case_for_update(number, session=session)
    _check_version(case, expected_version)
    _at_org(case, actor)
    materials = {
        m.name: m
        for m in (
            await session.scalars(
                select(CaseMaterial).where(CaseMaterial.case_number == case.number)
            )
        ).all()
    }
    detail = prereview.record(case, result, missing, materials, reviewer=actor.id, now=now)
    timers = await session.scalars(
        select(CaseTimer).where(
            CaseTimer.case_number == case.number,
            CaseTimer.kind.in_(prereview.TIMERS),
            CaseTimer.fired_at.is_(None),
            CaseTimer.cancelled_at.is_(None),
        )
    )
    for t in timers:
        t.cancelled_at = now
    case.updated_at = now
    await session.flush()
    await record_event(session, case, actor, prereview.PRE_REVIEW_ACTION, case.status, now, detail)
    return case
