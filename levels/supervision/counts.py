"""Raw supervision counts of one level store, per service org: a handful of SQL
aggregates (GROUP BY org), never the rows themselves.

What each count means (``Period`` = whole China dates, both ends included):

* ``matters`` — the org's published items (实施清单, at the end of the period as it
  stands now); ``one_visit_matters``, of those, promising ``max_visits`` ≤ 1 (一趟不用跑
  or 最多跑一趟); ``zero_visit_matters``, promising 0 (一趟不用跑). Read with the orgs.
* ``received`` — cases received in the period (submitted, by ``submitted_at``), counted
  at the org that received them: the row in the store of the level where the case was
  handed in (``received_level`` is that level). A referred case (转报) is received once,
  below, whatever its copies above.
* ``online`` — of those, handed in on the WEB or MOBILE channel.
* ``promised_days`` / ``legal_days`` — of those, the sums of the promised (承诺) and
  statutory (法定) limits in working days.
* ``at_most_one_visit`` — of those, cases whose item promises ``max_visits`` ≤ 1
  (一趟不用跑 or 最多跑一次). The item lives in the store of its level, so a case
  received below its item's level is resolved in a second, batched look-up there.
* ``accepted`` — cases received in the period that were accepted (受理: by a clerk,
  deemed accepted after 3 working days, after 补正, completed on the spot, or on
  receipt of a referral), counted where accepted — for a referred case, the deciding
  org. Refused (不予受理), withdrawn or unsupplemented cases were not accepted.
* ``completed`` — cases decided (准予/不予许可) or completed on the spot (当场办结) in
  the period (by ``decided_at``), counted where decided. Refusals to accept,
  withdrawals and 逾期未补正 closures are not completions.
* ``completed_on_time`` — of those, decided on or before the day the promised clock
  fell due (``due_on``, working days, special procedures not counted); a completion
  on the spot is on time.
* ``immediate`` — of the completions, those completed on the spot (即办, status
  COMPLETED).
* ``on_site`` — of the immediate ones, those handed in in person (at a counter, or a
  village station's agent) and completed the same China day (当场办结, 0 further visits).
* ``delivered`` — cases delivered (出件) in the period (by ``delivered_at``), counted
  where delivered; ``archive_overdue``, of those, flagged for not being archived within
  1 working day of delivery (归档, the ARCHIVE_DUE timer's ``archive_overdue``).
* ``yellow_cards`` / ``red_cards`` — 电子监察 cards issued in the period, at the org
  that held the case, against any of its clocks; ``procedures_overdue``, of the red
  ones, those of special procedures past their own limit (特殊环节), and
  ``pre_reviews_overdue``, those of online applications not pre-reviewed within 2
  working days (网上预审).
* ratings — 好差评 given in the period per level, at the org that held the case; a
  rating whose appeal was UPHELD is left out.
* ``complaints`` — complaints filed in the period; ``complaints_handled``, of those
  handled; ``complaints_overdue``, of those, past their deadline: handled after it, or
  still open after it (as of ``today``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from typing import Any

from sqlalchemy import Date, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from levels.cases import prereview
from levels.cases.enums import CardClock, CardColor, CaseStatus
from levels.cases.models import Case, SupervisionCard
from levels.common.enums import Level, MatterStatus
from levels.common.models import MatterImplementation, ServiceOrg
from levels.common.ranges import within
from levels.evaluations.enums import AppealStatus, ComplaintStatus, RatingLevel
from levels.evaluations.models import Complaint, Evaluation
from levels.supervision.period import Period
from levels.supervision.staffing import DepartmentStaff

ONLINE_CHANNELS = prereview.ONLINE_CHANNELS
# handed in by someone standing there: at a window, or to a village station's agent
IN_PERSON_CHANNELS = ("COUNTER", "PROXY")


class china_day(FunctionElement[dt.date]):
    """The China calendar date of a stored instant."""

    type = Date()
    inherit_cache = True


@compiles(china_day, "sqlite")
def _china_day_sqlite(element: china_day, compiler: Any, **kw: Any) -> str:
    # SQLite keeps instants in UTC (AwareDateTime); China has no daylight saving
    return f"date({compiler.process(element.clauses, **kw)}, '+8 hours')"


@compiles(china_day, "postgresql")
def _china_day_postgresql(element: china_day, compiler: Any, **kw: Any) -> str:
    return f"CAST(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'Asia/Shanghai' AS DATE)"


@dataclass
class Counts:
    """The raw counts of one org (or a sum of orgs). Rates are computed from them
    once, in ``levels.supervision.combine``."""

    matters: int = 0
    one_visit_matters: int = 0
    zero_visit_matters: int = 0
    received: int = 0
    accepted: int = 0
    completed: int = 0
    completed_on_time: int = 0
    immediate: int = 0
    promised_days: int = 0
    legal_days: int = 0
    online: int = 0
    on_site: int = 0
    at_most_one_visit: int = 0
    delivered: int = 0
    archive_overdue: int = 0
    yellow_cards: int = 0
    red_cards: int = 0
    procedures_overdue: int = 0
    pre_reviews_overdue: int = 0
    very_satisfied: int = 0
    satisfied: int = 0
    basic: int = 0
    dissatisfied: int = 0
    very_dissatisfied: int = 0
    complaints: int = 0
    complaints_handled: int = 0
    complaints_overdue: int = 0

    def add(self, other: Counts) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


_RATING_FIELD = {
    RatingLevel.VERY_SATISFIED: "very_satisfied",
    RatingLevel.SATISFIED: "satisfied",
    RatingLevel.BASIC: "basic",
    RatingLevel.DISSATISFIED: "dissatisfied",
    RatingLevel.VERY_DISSATISFIED: "very_dissatisfied",
}


@dataclass(frozen=True)
class OrgRow:
    code: str
    name: str
    level: Level
    division_code: str


@dataclass(frozen=True)
class PendingItem:
    """Received cases whose item is not in this store: (org, item) → how many."""

    org_code: str
    implementation_code: str
    cases: int


@dataclass
class StoreCounts:
    level: Level
    orgs: list[OrgRow] = field(default_factory=list)
    by_org: dict[str, Counts] = field(default_factory=dict)
    pending: list[PendingItem] = field(default_factory=list)
    # city and county stores: their centres' departments with a window of their own
    departments: list[DepartmentStaff] = field(default_factory=list)

    def of(self, org_code: str) -> Counts:
        return self.by_org.setdefault(org_code, Counts())


def _sum(condition: ColumnElement[bool], value: Any = 1) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


def _within(column: Any, period: Period) -> ColumnElement[bool]:
    return and_(column >= period.since, column < period.until)


async def store_counts(
    level: Level, prefix: str, period: Period, today: dt.date, *, session: AsyncSession
) -> StoreCounts:
    """The counts of every org of ``session``'s store whose division code starts with
    ``prefix``, for ``period``. Six statements, whatever the number of rows."""
    out = StoreCounts(level)
    impl = MatterImplementation
    orgs = await session.execute(
        select(
            ServiceOrg.code,
            ServiceOrg.name,
            ServiceOrg.level,
            ServiceOrg.division_code,
            func.count(impl.code),
            _sum(impl.max_visits <= 1),
            _sum(impl.max_visits == 0),
        )
        .outerjoin(
            impl, and_(impl.org_code == ServiceOrg.code, impl.status == MatterStatus.PUBLISHED)
        )
        .where(within(ServiceOrg.division_code, prefix))
        .group_by(ServiceOrg.code, ServiceOrg.name, ServiceOrg.level, ServiceOrg.division_code)
        .order_by(ServiceOrg.code)
    )
    for code, name, org_level, division, matters, one_visit, zero_visit in orgs.all():
        out.orgs.append(OrgRow(code, name, org_level, division))
        if matters:
            c = out.of(code)
            c.matters += matters
            c.one_visit_matters += one_visit
            c.zero_visit_matters += zero_visit

    # intake, at the receiving org, per item (for its max_visits)
    received_here = or_(Case.received_level.is_(None), Case.received_level == Case.level)
    intake = await session.execute(
        select(
            Case.org_code,
            Case.implementation_code,
            MatterImplementation.max_visits,
            func.count(),
            _sum(Case.channel.in_(ONLINE_CHANNELS)),
            func.coalesce(func.sum(Case.promised_limit_days), 0),
            func.coalesce(func.sum(Case.legal_limit_days), 0),
        )
        .outerjoin(MatterImplementation, MatterImplementation.code == Case.implementation_code)
        .where(
            within(Case.division_code, prefix),
            received_here,
            _within(Case.submitted_at, period),
        )
        .group_by(Case.org_code, Case.implementation_code, MatterImplementation.max_visits)
    )
    for org, item, max_visits, n, online, promised, legal in intake.all():
        c = out.of(org)
        c.received += n
        c.online += online
        c.promised_days += promised
        c.legal_days += legal
        if max_visits is None:
            out.pending.append(PendingItem(org, item, n))
        elif max_visits <= 1:
            c.at_most_one_visit += n

    # handling, where the case is now (a REFERRED row is a copy left below)
    decided = _within(Case.decided_at, period)
    delivered = _within(Case.delivered_at, period)
    on_spot = Case.status == CaseStatus.COMPLETED
    handled = await session.execute(
        select(
            Case.org_code,
            _sum(and_(_within(Case.submitted_at, period), Case.accepted_on.is_not(None))),
            _sum(decided),
            _sum(and_(decided, or_(on_spot, china_day(Case.decided_at) <= Case.due_on))),
            _sum(and_(decided, on_spot)),
            _sum(
                and_(
                    decided,
                    on_spot,
                    Case.channel.in_(IN_PERSON_CHANNELS),
                    china_day(Case.decided_at) == china_day(Case.submitted_at),
                )
            ),
            _sum(delivered),
            _sum(and_(delivered, Case.archive_overdue)),
        )
        .where(
            within(Case.division_code, prefix),
            Case.status != CaseStatus.REFERRED,
            or_(_within(Case.submitted_at, period), decided, delivered),
        )
        .group_by(Case.org_code)
    )
    for org, accepted, completed, on_time, immediate, on_site, handed_out, late in handled.all():
        c = out.of(org)
        c.delivered += handed_out
        c.archive_overdue += late
        c.accepted += accepted
        c.completed += completed
        c.completed_on_time += on_time
        c.immediate += immediate
        c.on_site += on_site

    red = SupervisionCard.color == CardColor.RED
    cards = await session.execute(
        select(
            SupervisionCard.org_code,
            _sum(SupervisionCard.color == CardColor.YELLOW),
            _sum(SupervisionCard.color == CardColor.RED),
            _sum(red & (SupervisionCard.clock == CardClock.SPECIAL_PROCEDURE)),
            _sum(red & (SupervisionCard.clock == CardClock.PRE_REVIEW)),
        )
        .where(
            within(SupervisionCard.division_code, prefix),
            _within(SupervisionCard.issued_at, period),
        )
        .group_by(SupervisionCard.org_code)
    )
    for org, yellow, reds, procedures, pre_reviews in cards.all():
        c = out.of(org)
        c.yellow_cards += yellow
        c.red_cards += reds
        c.procedures_overdue += procedures
        c.pre_reviews_overdue += pre_reviews

    ratings = await session.execute(
        select(Evaluation.org_code, Evaluation.rating, func.count())
        .where(
            within(Evaluation.division_code, prefix),
            _within(Evaluation.rated_at, period),
            or_(
                Evaluation.appeal_status.is_(None),
                Evaluation.appeal_status != AppealStatus.UPHELD,
            ),
        )
        .group_by(Evaluation.org_code, Evaluation.rating)
    )
    for org, rating, n in ratings.all():
        c = out.of(org)
        name = _RATING_FIELD[rating]
        setattr(c, name, getattr(c, name) + n)

    is_open = Complaint.status == ComplaintStatus.OPEN
    complaints = await session.execute(
        select(
            Complaint.org_code,
            func.count(),
            _sum(Complaint.status == ComplaintStatus.HANDLED),
            _sum(
                or_(
                    and_(is_open, Complaint.due_on < today),
                    and_(~is_open, china_day(Complaint.handled_at) > Complaint.due_on),
                )
            ),
        )
        .where(within(Complaint.division_code, prefix), _within(Complaint.filed_at, period))
        .group_by(Complaint.org_code)
    )
    for org, n, handled_n, overdue in complaints.all():
        c = out.of(org)
        c.complaints += n
        c.complaints_handled += handled_n
        c.complaints_overdue += overdue
    return out


async def max_visits(codes: list[str], *, session: AsyncSession) -> dict[str, int]:
    """``max_visits`` of the items of ``session``'s store among ``codes``."""
    if not codes:
        return {}
    rows = await session.execute(
        select(MatterImplementation.code, MatterImplementation.max_visits).where(
            MatterImplementation.code.in_(codes)
        )
    )
    return {code: visits for code, visits in rows.all()}
