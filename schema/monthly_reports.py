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
from schema.divisions import ServiceOrg
from schema.info import Info
from schema.payloads import UserError


def report_target(row: MonthlyReport) -> Target:
    return Target(Resource.MONTHLY_REPORT, division_code=row.division_code, org_code=row.org_code)


@strawberry.type(description="业务办理: the month's figures as filed")
class MonthlyReportFigures:
    received: int
    accepted: int
    completed: int
    completed_on_time: int
    on_time_rate: float | None
    immediate: int
    online: int
    on_site: int
    delivered: int
    archive_overdue: int
    yellow_cards: int
    red_cards: int
    ratings: int
    negative_rate: float | None
    complaints: int
    complaints_handled: int
    complaints_overdue: int

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
    name: str
    windows: list[str] = strawberry.field(description="The numbers of the windows they hold")
    served: int = strawberry.field(description="Queue tickets they finished serving")
    ratings: int = strawberry.field(description="好差评 naming them")
    negative: int = strawberry.field(description="Of those, 差评")
    complaints: int = strawberry.field(description="Complaints about them")


@strawberry.type(description="服务对象投诉: a complaint of the month, as the report lists it")
class ReportComplaint:
    filed_on: dt.date
    case_number: str | None
    content: str
    status: str
    due_on: dt.date
    overdue: bool


@strawberry.type(description="月报表: a town centre's filed report of one month")
class MonthlyReportType:
    id: strawberry.ID
    org_code: str
    division_code: str
    month: str = strawberry.field(description="YYYY-MM")
    due_on: dt.date = strawberry.field(description="The 5th working day of the next month")
    late: bool = strawberry.field(description="Filed after its due day")
    filed_at: dt.datetime
    filed_by_name: str
    figures: MonthlyReportFigures
    staff: list[StaffAssessment]
    complaints: list[ReportComplaint]
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


@strawberry.type
class MonthlyReportPayload:
    report: MonthlyReportType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="月报表备案 due: the town centres that have not filed it")
class MonthlyReportsDue:
    month: str = strawberry.field(description="The latest month whose report is due")
    due_on: dt.date
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
        found = await info.context.loaders.overdue_reports.load((prefix, today, workday))
        return MonthlyReportsDue.of(found) if found is not None else None
