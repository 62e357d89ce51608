"""What a node computes for the supervision figures and reports (电子监察), over its
own store, and how the answers travel as JSON: the counts of the supervision report
(``levels/supervision/counts.py``) for the levels it holds under a division, the
``max_visits`` of items, the rating roll-up's tallies, the rectification and complaint
lists' conditions, and the town centres late with their monthly report. One function
each, used by a node's API (``schema/node/supervision_lists.py``) and by the hub
reading a store by SQL alike: the same statements, the same answers."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.calendar.workdays import load_calendar
from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from levels.common.models import ServiceOrg
from levels.common.ranges import within
from levels.common.reads import table
from levels.common.rowcodec import decode_row, encode_row
from levels.evaluations import service as evaluation_service
from levels.evaluations.enums import ComplaintStatus, RectificationStatus, RollupDimension
from levels.evaluations.models import Complaint, Rectification
from levels.supervision.counts import (
    Counts,
    OrgRow,
    PendingItem,
    StoreCounts,
    max_visits,
    store_counts,
)
from levels.supervision.filing import OverdueReports, overdue_centres
from levels.supervision.period import Period
from levels.supervision.staffing import CENTRE_LEVELS, DepartmentStaff, department_window_staff

E = TypeVar("E", bound=enum.Enum)

# -- the supervision report's counts ---------------------------------------------------


async def node_counts(
    held: Sequence[Level], prefix: str, period: Period, today: dt.date, *, session: AsyncSession
) -> list[StoreCounts]:
    """The counts of the levels ``held`` of one store under ``prefix``: the six
    statements once per store (two more where a city or county is held), split by the
    level of each org when the store holds several levels — never counted once per
    level."""
    if not held:
        return []
    found = await store_counts(held[0], prefix, period, today, session=session)
    if any(level in CENTRE_LEVELS for level in held):
        found.departments = await department_window_staff(prefix, session=session)
    if len(held) == 1:
        return [found]
    return _split(found, held)


def _split(found: StoreCounts, held: Sequence[Level]) -> list[StoreCounts]:
    """``found`` (one store's counts over several levels) as one ``StoreCounts`` per
    level held, each org's counts at its own level (an org the store does not list, at
    the top one)."""
    parts = {level: StoreCounts(level) for level in held}
    level_of = {o.code: o.level for o in found.orgs}

    def part(org_code: str) -> StoreCounts:
        level = level_of.get(org_code, held[0])
        return parts.get(level, parts[held[0]])

    for org in found.orgs:
        part(org.code).orgs.append(org)
    for code, counts in found.by_org.items():
        part(code).by_org[code] = counts
    for pending in found.pending:
        part(pending.org_code).pending.append(pending)
    for department in found.departments:
        part(department.org_code).departments.append(department)
    return [p for p in parts.values() if p.orgs or p.by_org or p.pending or p.departments]


def encode_counts(found: Sequence[StoreCounts]) -> list[dict[str, Any]]:
    return [
        {
            "level": s.level.name,
            "orgs": [[o.code, o.name, o.level.name, o.division_code] for o in s.orgs],
            "byOrg": {code: asdict(c) for code, c in s.by_org.items()},
            "pending": [[p.org_code, p.implementation_code, p.cases] for p in s.pending],
            "departments": [asdict(d) for d in s.departments],
        }
        for s in found
    ]


def decode_counts(data: Sequence[Mapping[str, Any]]) -> list[StoreCounts]:
    names = {f.name for f in fields(Counts)}
    return [
        StoreCounts(
            level=Level[s["level"]],
            orgs=[OrgRow(c, n, Level[lv], d) for c, n, lv, d in s["orgs"]],
            by_org={
                code: Counts(**{k: int(v) for k, v in c.items() if k in names})
                for code, c in s["byOrg"].items()
            },
            pending=[PendingItem(o, i, int(n)) for o, i, n in s["pending"]],
            departments=[DepartmentStaff(**d) for d in s["departments"]],
        )
        for s in data
    ]


async def item_visits(codes: Sequence[str], *, session: AsyncSession) -> dict[str, int]:
    """``max_visits`` of the items of the store among ``codes``."""
    return await max_visits(sorted(set(codes)), session=session)


# -- the rating roll-up ----------------------------------------------------------------


@dataclass(frozen=True)
class RollupAsk:
    dimension: RollupDimension
    prefix: str
    rated_from: dt.datetime | None = None
    rated_before: dt.datetime | None = None


async def rollup_rows(ask: RollupAsk, *, session: AsyncSession) -> list[list[Any]]:
    """The store's tallies (key, rating name, count) of the roll-up: one statement."""
    stmt = evaluation_service.rollup_query(
        ask.dimension,
        prefix=ask.prefix,
        rated_from=ask.rated_from,
        rated_before=ask.rated_before,
    )
    return [[key, rating.name, int(n)] for key, rating, n in (await session.execute(stmt)).all()]


# -- the rectification and complaint lists ----------------------------------------------


@dataclass(frozen=True)
class ListConditions:
    """What a rectification or complaint list keeps under its prefix: one applicant's
    (or complainant's) own, a status, flagged overdue or not, of one case."""

    applicant: str | None = None
    status: str | None = None
    overdue: bool | None = None
    case_number: str | None = None

    def encode(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def decode(cls, data: Mapping[str, Any] | None) -> ListConditions:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in known})


def _member(kind: type[E], name: str) -> E:
    try:
        return kind[name]
    except KeyError:
        raise DomainError(
            ErrorCode.BAD_USER_INPUT, field=["filter", "status"], detail=name
        ) from None


def rectification_query(prefix: str, c: ListConditions, limit: int) -> Select[Any]:
    """整改 under ``prefix`` meeting ``c``, soonest due first, at most ``limit``."""
    stmt = select(Rectification).where(within(Rectification.division_code, prefix))
    if c.applicant is not None:
        stmt = stmt.where(Rectification.applicant_id == c.applicant)
    if c.status is not None:
        stmt = stmt.where(Rectification.status == _member(RectificationStatus, c.status))
    if c.overdue is not None:
        flagged = Rectification.overdue_at.is_not(None)
        stmt = stmt.where(flagged if c.overdue else ~flagged)
    return stmt.order_by(Rectification.due_on).limit(limit)


def complaint_query(prefix: str, c: ListConditions, limit: int) -> Select[Any]:
    """投诉 under ``prefix`` meeting ``c``, newest first, at most ``limit``."""
    stmt = select(Complaint).where(within(Complaint.division_code, prefix))
    if c.applicant is not None:
        stmt = stmt.where(Complaint.complainant_id == c.applicant)
    if c.status is not None:
        stmt = stmt.where(Complaint.status == _member(ComplaintStatus, c.status))
    if c.case_number is not None:
        stmt = stmt.where(Complaint.case_number == c.case_number)
    if c.overdue is not None:
        flagged = Complaint.overdue_at.is_not(None)
        stmt = stmt.where(flagged if c.overdue else ~flagged)
    return stmt.order_by(Complaint.filed_at.desc()).limit(limit)


async def listed(stmt: Select[Any], *, session: AsyncSession) -> Sequence[Any]:
    return (await session.scalars(stmt)).all()


# -- the monthly report's late centres --------------------------------------------------


async def late_centres(
    prefix: str, today: dt.date, workday: int, *, session: AsyncSession
) -> OverdueReports:
    """The store's town centres under ``prefix`` late with the latest month due by
    ``today`` (on the store's calendar): three statements."""
    calendar = await load_calendar(session=session)
    return await overdue_centres(prefix, today, calendar, session=session, workday=workday)


def encode_overdue(found: OverdueReports) -> dict[str, Any]:
    return {
        "prefix": found.prefix,
        "today": found.today.isoformat(),
        "workday": found.workday,
        "month": found.month,
        "dueOn": found.due_on.isoformat(),
        "centres": [encode_row(table(ServiceOrg), o) for o in found.centres],
    }


def decode_overdue(data: Mapping[str, Any]) -> OverdueReports:
    return OverdueReports(
        prefix=data["prefix"],
        today=dt.date.fromisoformat(data["today"]),
        workday=int(data["workday"]),
        month=data["month"],
        due_on=dt.date.fromisoformat(data["dueOn"]),
        centres=[decode_row(ServiceOrg, c) for c in data["centres"]],
    )


def merge_overdue(parts: Sequence[OverdueReports]) -> OverdueReports | None:
    """The late centres of several stores as one answer (the month and due day of the
    first; every store keeps the same calendar), by division code."""
    if not parts:
        return None
    first = parts[0]
    centres = sorted((o for p in parts for o in p.centres), key=lambda o: o.division_code)
    return OverdueReports(
        first.prefix, first.today, first.workday, first.month, first.due_on, centres
    )
