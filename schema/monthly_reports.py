"""Filed monthly reports (月报表备案) in the schema: 002 "于每月第五个工作日前将上月的业务办理、
窗口工作人员考核和服务对象投诉等工作情况报县政务中心备案". A report as filed — its figures,
the window staff assessment, the complaints, who filed it and when, its due day and
whether it came late — and, on the ``supervision`` report, the town centres that have
not filed the latest month due."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from auth.policy import Resource, Target
from levels.cases.service import china_date
from levels.common.codes import parse_division
from levels.common.enums import Level
from levels.supervision.filing import OverdueReports
from levels.supervision.models import MonthlyReport
from resolvers.partial import load_or_report, report_unavailable
from schema.divisions import ServiceOrg
from schema.info import Info
from schema.payloads import UserError


def report_target(row: MonthlyReport) -> Target:
    return Target(Resource.MONTHLY_REPORT, division_code=row.division_code, org_code=row.org_code)


@strawberry.type(description="业务办理: the month's figures as filed")
class MonthlyReportFigures:
    received: int = strawberry.field(description="Cases received in the month")
    accepted: int = strawberry.field(description="Cases accepted (受理)")
    completed: int = strawberry.field(description="Cases completed (办结)")
    completed_on_time: int = strawberry.field(
        description="Of those, completed within the promised limit"
    )
    on_time_rate: float | None = strawberry.field(
        description="completedOnTime / completed; null with none completed"
    )
    immediate: int = strawberry.field(description="Immediate matters (即办件) done on the spot")
    online: int = strawberry.field(description="Cases that arrived online")
    on_site: int = strawberry.field(description="Cases received at a counter")
    delivered: int = strawberry.field(description="Results delivered (送达)")
    archive_overdue: int = strawberry.field(
        description="Cases not archived within 1 working day of delivery"
    )
    yellow_cards: int = strawberry.field(description="Yellow cards issued (电子监察)")
    red_cards: int = strawberry.field(description="Red cards issued (电子监察)")
    ratings: int = strawberry.field(description="好差评 given")
    negative_rate: float | None = strawberry.field(
        description="Share of 差评 among the ratings; null with none"
    )
    complaints: int = strawberry.field(description="Complaints filed (投诉)")
    complaints_handled: int = strawberry.field(description="Of those, handled")
    complaints_overdue: int = strawberry.field(description="Of those, past their due day")

    @classmethod
    def of(cls, figures: dict[str, Any]) -> MonthlyReportFigures:
        names = {
            "completedOnTime": "completed_on_time",
            "onTimeRate": "on_time_rate",
            "onSite": "on_site",
            "archiveOverdue": "archive_overdue",
            "yellowCards": "yellow_cards",
            "redCards": "red_cards",
            "negativeRate": "negative_rate",
            "complaintsHandled": "complaints_handled",
            "complaintsOverdue": "complaints_overdue",
        }
        return cls(**{names.get(k, k): v for k, v in figures.items()})


@strawberry.type(description="窗口工作人员考核: one person on the centre's window posts")
class StaffAssessment:
    name: str = strawberry.field(description="The staff member's name")
    windows: list[str] = strawberry.field(description="The numbers of the windows they hold")
    served: int = strawberry.field(description="Queue tickets they finished serving")
    ratings: int = strawberry.field(description="好差评 naming them")
    negative: int = strawberry.field(description="Of those, 差评")
    complaints: int = strawberry.field(description="Complaints about them")


@strawberry.type(description="服务对象投诉: a complaint of the month, as the report lists it")
class ReportComplaint:
    filed_on: dt.date = strawberry.field(description="The day it was filed")
    case_number: str | None = strawberry.field(description="The case it is about, if any")
    content: str = strawberry.field(description="What the complaint says")
    status: str = strawberry.field(description="Where it stands")
    due_on: dt.date = strawberry.field(description="The day it is due to be handled")
    overdue: bool = strawberry.field(description="Past its due day unhandled")


@strawberry.type(description="月报表: a town centre's filed report of one month")
class MonthlyReportType:
    id: strawberry.ID = strawberry.field(description="The report's id")
    org_code: str = strawberry.field(description="The filing centre's credit code")
    division_code: str = strawberry.field(description="The town's division code")
    month: str = strawberry.field(description="YYYY-MM")
    due_on: dt.date = strawberry.field(description="The 5th working day of the next month")
    late: bool = strawberry.field(description="Filed after its due day")
    filed_at: dt.datetime = strawberry.field(description="When it was filed")
    filed_by_name: str = strawberry.field(description="Who filed it")
    figures: MonthlyReportFigures = strawberry.field(description="业务办理: the month's figures")
    staff: list[StaffAssessment] = strawberry.field(
        description="窗口工作人员考核: each person on the window posts"
    )
    complaints: list[ReportComplaint] = strawberry.field(
        description="服务对象投诉: the month's complaints"
    )
    row: strawberry.Private[MonthlyReport]

    def authz_target(self) -> Target:
        return report_target(self.row)

    @classmethod
    def from_row(cls, row: MonthlyReport) -> MonthlyReportType:
        return cls(
            id=strawberry.ID(row.id),
            org_code=row.org_code,
            division_code=row.division_code,
            month=row.month,
            due_on=row.due_on,
            late=row.late,
            filed_at=row.filed_at,
            filed_by_name=row.filed_by_name,
            figures=MonthlyReportFigures.of(row.figures),
            staff=[
                StaffAssessment(
                    name=s["name"],
                    windows=list(s["windows"]),
                    served=s["served"],
                    ratings=s["ratings"],
                    negative=s["negative"],
                    complaints=s["complaints"],
                )
                for s in row.staff
            ],
            complaints=[
                ReportComplaint(
                    filed_on=dt.date.fromisoformat(c["filedOn"]),
                    case_number=c["caseNumber"],
                    content=c["content"],
                    status=c["status"],
                    due_on=dt.date.fromisoformat(c["dueOn"]),
                    overdue=c["overdue"],
                )
                for c in row.complaints
            ],
            row=row,
        )

    @strawberry.field(description="The filing centre")
    async def org(self, info: Info) -> ServiceOrg | None:
        found = await info.context.loaders.service_org_by_code.load((Level.TOWN, self.org_code))
        return ServiceOrg.from_row(found) if found is not None else None


@strawberry.input(description="月报表备案: a town centre files last month's report")
class FileMonthlyReportInput:
    org_code: str = strawberry.field(description="The centre's credit code or division code")
    month: str = strawberry.field(description="YYYY-MM, a month that is over")


@strawberry.type(description="The filed report, or why it was refused")
class MonthlyReportPayload:
    report: MonthlyReportType | None = strawberry.field(
        default=None, description="The report as filed"
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="Expected failures with their codes; empty when the mutation took effect",
    )


@strawberry.type(description="月报表备案 due: the town centres that have not filed it")
class MonthlyReportsDue:
    month: str = strawberry.field(description="The latest month whose report is due")
    due_on: dt.date = strawberry.field(
        description="Its due day: the configured working day of the next month"
    )
    overdue: list[ServiceOrg] = strawberry.field(
        description="Town centres of the division that had not filed it by its due day"
    )

    @classmethod
    def of(cls, found: OverdueReports) -> MonthlyReportsDue:
        return cls(
            month=found.month,
            due_on=found.due_on,
            overdue=[ServiceOrg.from_row(o) for o in found.centres],
        )


@strawberry.type
class MonthlyReportFields:
    """A field of the ``supervision`` report: the county sees who has not filed."""

    @strawberry.field(
        description="002 月报表备案: the latest month whose report is due (by the 5th working "
        "day of the next month) and the town centres of the division that have not filed it"
    )
    async def monthly_reports_due(self, info: Info) -> MonthlyReportsDue | None:
        prefix = parse_division(self.division_code).prefix  # type: ignore[attr-defined]
        today = china_date(info.context.clock.now())
        workday = info.context.settings.monthly_report_workday
        loader = info.context.loaders.overdue_reports
        key = (prefix, today, workday)
        # a node that did not answer: its centres left out, NODE_UNAVAILABLE naming it
        found = await load_or_report(info, loader, key, None)
        report_unavailable(info, loader.failed(key))
        return MonthlyReportsDue.of(found) if found is not None else None
