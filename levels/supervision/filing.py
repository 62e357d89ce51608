"""Filing the monthly report (月报表备案), in the store of the filing town centre: 002 第二
十条 "分中心要建立业务月报表制度，于每月第五个工作日前将上月的业务办理、窗口工作人员考核和
服务对象投诉等工作情况报县政务中心备案".

A town centre files the report of a month once the month is over: the figures of its
division (the same ``collect`` as the ``supervision`` query), the assessment of its
window staff (what each person on its windows' A/B posts served, and the ratings and
complaints naming them) and the complaints of the month. The report is due by the end
of the 5th working day (``chinesecalendar`` through the store's work calendar; the
number is a setting) of the next month; one filed after it is kept and marked late. A
second filing of the same month is refused. A town centre that has not filed by the
due day is listed to the county (``overdue_centres``)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from levels.audit.chain import EventDraft, append
from levels.calendar.workdays import WorkCalendar
from levels.cases.service import Actor, china_date
from levels.common.enums import Level
from levels.common.errors import DomainError
from levels.common.models import ServiceOrg, Window
from levels.common.ranges import within
from levels.evaluations.models import Complaint, Evaluation
from levels.supervision.combine import Figures
from levels.supervision.errors import SupervisionErrorCode as E
from levels.supervision.models import MonthlyReport
from levels.supervision.period import Period
from levels.windows.enums import TicketStatus
from levels.windows.models import QueueTicket, WindowSetup

FILE_ACTION = "FILE_MONTHLY_REPORT"
# the levels whose centres file (乡镇便民服务中心、分中心)
FILING_LEVELS = (Level.TOWN,)


def due_on(period: Period, calendar: WorkCalendar, workday: int = 5) -> dt.date:
    """The ``workday``-th working day of the month after ``period``'s."""
    day = period.end + dt.timedelta(days=1)
    seen = 0
    while True:
        if calendar.is_working_day(day):
            seen += 1
            if seen == workday:
                return day
        day += dt.timedelta(days=1)


def month_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_before(day: dt.date) -> Period:
    last = day.replace(day=1) - dt.timedelta(days=1)
    return Period(last.replace(day=1), last)


def latest_due_month(today: dt.date, calendar: WorkCalendar, workday: int = 5) -> Period:
    """The latest month whose report is due by ``today``: last month once its due day
    has passed, else the month before it."""
    last = month_before(today)
    if today > due_on(last, calendar, workday):
        return last
    return month_before(last.start)


def figures_of(f: Figures) -> dict[str, Any]:
    """The figures a filed report keeps (业务办理), by their API names."""
    c = f.counts
    return {
        "received": c.received,
        "accepted": c.accepted,
        "completed": c.completed,
        "completedOnTime": c.completed_on_time,
        "onTimeRate": f.on_time_rate,
        "immediate": c.immediate,
        "online": c.online,
        "onSite": c.on_site,
        "delivered": c.delivered,
        "archiveOverdue": c.archive_overdue,
        "yellowCards": c.yellow_cards,
        "redCards": c.red_cards,
        "ratings": f.rated,
        "negativeRate": f.negative_rate,
        "complaints": c.complaints,
        "complaintsHandled": c.complaints_handled,
        "complaintsOverdue": c.complaints_overdue,
    }


async def staff_assessment(
    org_code: str, period: Period, *, session: AsyncSession
) -> list[dict[str, Any]]:
    """窗口工作人员考核: each person on the A/B posts of the org's windows, with the
    tickets they finished serving, the ratings and 差评 naming them and the complaints
    about them, in the month. Four statements."""
    posts = (
        await session.execute(
            select(Window.number, WindowSetup)
            .join(WindowSetup, WindowSetup.window_id == Window.id)
            .where(Window.org_code == org_code)
            .order_by(Window.number)
        )
    ).all()
    people: dict[str, dict[str, Any]] = {}
    for number, setup in posts:
        for staff_id, name in (
            (setup.a_staff_id, setup.a_staff_name),
            (setup.b_staff_id, setup.b_staff_name),
        ):
            if staff_id is None:
                continue
            entry = people.setdefault(
                staff_id,
                {"staffId": staff_id, "name": name or staff_id, "windows": [], "served": 0,
                 "ratings": 0, "negative": 0, "complaints": 0},
            )  # fmt: skip
            if number not in entry["windows"]:
                entry["windows"].append(number)
    served: dict[str, int] = defaultdict(int)
    for called_by in await session.scalars(
        select(QueueTicket.called_by).where(
            QueueTicket.org_code == org_code,
            QueueTicket.status == TicketStatus.DONE,
            QueueTicket.finished_at >= period.since,
            QueueTicket.finished_at < period.until,
        )
    ):
        if called_by:
            served[called_by] += 1
    rated = (
        await session.execute(
            select(Evaluation.staff_id, Evaluation.negative).where(
                Evaluation.org_code == org_code,
                Evaluation.rated_at >= period.since,
                Evaluation.rated_at < period.until,
            )
        )
    ).all()
    complained = await session.scalars(
        select(Complaint.staff_id).where(
            Complaint.org_code == org_code,
            Complaint.filed_at >= period.since,
            Complaint.filed_at < period.until,
        )
    )
    for staff_id, entry in people.items():
        entry["served"] = served.get(staff_id, 0)
    for staff_id, negative in rated:
        if staff_id in people:
            people[staff_id]["ratings"] += 1
            people[staff_id]["negative"] += int(bool(negative))
    for staff_id in complained:
        if staff_id in people:
            people[staff_id]["complaints"] += 1
    return sorted(people.values(), key=lambda e: (e["windows"][:1], e["staffId"]))


async def complaints_of(
    org_code: str, period: Period, *, session: AsyncSession
) -> list[dict[str, Any]]:
    """服务对象投诉 filed against the org in the month, in filing order: when, about
    what, where it stands (no complainant's identity)."""
    rows = await session.scalars(
        select(Complaint)
        .where(
            Complaint.org_code == org_code,
            Complaint.filed_at >= period.since,
            Complaint.filed_at < period.until,
        )
        .order_by(Complaint.filed_at, Complaint.id)
    )
    return [
        {
            "id": r.id,
            "filedOn": china_date(r.filed_at).isoformat(),
            "caseNumber": r.case_number,
            "windowId": r.window_id,
            "content": r.content,
            "status": r.status.value,
            "dueOn": r.due_on.isoformat(),
            "overdue": r.overdue_at is not None,
        }
        for r in rows
    ]


@dataclass(frozen=True)
class Filing:
    org: ServiceOrg
    period: Period
    figures: dict[str, Any]
    filed_by: str
    filed_by_name: str


async def file_report(
    filing: Filing,
    *,
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    calendar: WorkCalendar,
    workday: int = 5,
) -> MonthlyReport:
    """File ``filing`` in the caller's transaction: refused for an org that is not a
    town centre, a month not over, and a month already filed; marked late after its
    due day."""
    org, period = filing.org, filing.period
    if org.level not in FILING_LEVELS:
        raise DomainError(E.NOT_A_TOWN_CENTRE, field=["input", "orgCode"])
    today = china_date(now)
    if period.end >= today:
        raise DomainError(E.MONTH_NOT_OVER, field=["input", "month"])
    month = month_of(period.start)
    filed = await session.scalar(
        select(MonthlyReport.id).where(
            MonthlyReport.org_code == org.code, MonthlyReport.month == month
        )
    )
    if filed is not None:
        raise DomainError(E.ALREADY_FILED, field=["input", "month"])
    due = due_on(period, calendar, workday)
    row = MonthlyReport(
        id=uuid.uuid4().hex,
        org_code=org.code,
        division_code=org.division_code,
        month=month,
        due_on=due,
        late=today > due,
        figures=filing.figures,
        staff=await staff_assessment(org.code, period, session=session),
        complaints=await complaints_of(org.code, period, session=session),
        filed_by=filing.filed_by,
        filed_by_name=filing.filed_by_name,
        filed_at=now,
    )
    session.add(row)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:  # filed at the same moment by someone else
        raise DomainError(E.ALREADY_FILED, field=["input", "month"]) from None
    await append(
        EventDraft(
            actor_id=actor.id,
            actor_kind=actor.kind,
            role=actor.role,
            channel=actor.channel,
            org_code=actor.org_code,
            level=org.level.value,
            action=FILE_ACTION,
            after=month,
            detail={"report": row.id, "org": org.code, "dueOn": due.isoformat(), "late": row.late},
            request_id=actor.request_id,
            division_code=org.division_code,
        ),
        session=session,
        now=now,
    )
    return row


async def filed_reports(
    prefix: str, month: str | None, *, session: AsyncSession
) -> Sequence[MonthlyReport]:
    """The reports filed by orgs of divisions under ``prefix`` (of one month)."""
    stmt = select(MonthlyReport).where(within(MonthlyReport.division_code, prefix))
    if month is not None:
        stmt = stmt.where(MonthlyReport.month == month)
    stmt = stmt.order_by(MonthlyReport.month.desc(), MonthlyReport.division_code)
    return (await session.scalars(stmt)).all()


@dataclass(frozen=True)
class OverdueReports:
    """The town centres under ``prefix`` that had not filed ``month``'s report, due on
    ``due_on``, by ``today``."""

    prefix: str
    today: dt.date
    workday: int
    month: str
    due_on: dt.date
    centres: list[ServiceOrg]


async def overdue_centres(
    prefix: str, today: dt.date, calendar: WorkCalendar, *, session: AsyncSession, workday: int = 5
) -> OverdueReports:
    """The town centres under ``prefix`` that have not filed the latest month whose
    report is due by ``today``. Two statements."""
    period = latest_due_month(today, calendar, workday)
    month, due = month_of(period.start), due_on(period, calendar, workday)
    centres = await session.scalars(
        select(ServiceOrg)
        .where(within(ServiceOrg.division_code, prefix), ServiceOrg.level.in_(FILING_LEVELS))
        .order_by(ServiceOrg.division_code)
    )
    filed = set(
        await session.scalars(
            select(MonthlyReport.org_code).where(
                within(MonthlyReport.division_code, prefix), MonthlyReport.month == month
            )
        )
    )
    late = [o for o in centres if o.code not in filed]
    return OverdueReports(prefix, today, workday, month, due, late)
