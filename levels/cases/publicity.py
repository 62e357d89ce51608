"""许可结果公开 (000: "应当将许可结果予以公开，公众有权查阅"): which cases are public and
what of them is. A case is public once it records a decision (准予 or 不予许可, and every
state after it — issued, delivered, archived, or 当场办结); what is public is the matter,
the org that decided, the decision and its date, and who applied: an enterprise by its
name, a person by a masked name. Nothing else of the case ever leaves this module's
query: no ID number, account, phone, materials or reasons."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.cases.enums import ApplicantKind, CaseStatus
from levels.cases.models import Case
from levels.cases.service import start_of_day_after
from levels.common.ranges import within

# the columns a public listing reads: nothing else of a case is fetched
PUBLIC_COLUMNS = (
    Case.number,
    Case.level,
    Case.basic_code,
    Case.implementation_code,
    Case.matter_name,
    Case.org_code,
    Case.division_code,
    Case.decision,
    Case.decided_at,
    Case.applicant_kind,
    Case.applicant_name,
)


def mask_person_name(name: str) -> str:
    """``张*``, ``欧**``: the first character (the surname, as a published notice shows
    it), the rest starred; never the whole name."""
    name = name.strip()
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)


def public_applicant(kind: ApplicantKind, name: str) -> str:
    """Who applied, as it may be published: an enterprise's name, a person's masked."""
    return name if kind is ApplicantKind.ENTERPRISE else mask_person_name(name)


def decided_cases(
    prefix: str,
    *,
    basic_code: str | None,
    decided_from: dt.date | None,
    decided_to: dt.date | None,
) -> Select[Any]:
    """Decided cases of the divisions starting with ``prefix``, public columns only."""
    # (typed loosely: the row's shape is PUBLIC_COLUMNS, read by name)
    stmt = cast("Select[Any]", select(*PUBLIC_COLUMNS)).where(
        within(Case.division_code, prefix),
        Case.decision.is_not(None),
        Case.decided_at.is_not(None),
        # a referred case is public once, where it was decided
        Case.status != CaseStatus.REFERRED,
    )
    if basic_code is not None:
        stmt = stmt.where(Case.basic_code == basic_code)
    if decided_from is not None:
        day_before = decided_from - dt.timedelta(days=1)
        stmt = stmt.where(Case.decided_at >= start_of_day_after(day_before))
    if decided_to is not None:
        stmt = stmt.where(Case.decided_at < start_of_day_after(decided_to))
    return stmt


async def decisions_page(
    session: AsyncSession, stmt: Select[Any], *, after: str | None, limit: int
) -> Sequence[Any]:
    """One node's page of ``stmt`` in order of case number, after ``after``."""
    page = stmt.order_by(Case.number)
    if after is not None:
        page = page.where(Case.number > after)
    return (await session.execute(page.limit(limit))).all()
