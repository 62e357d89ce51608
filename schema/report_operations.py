"""The operations of the monthly report's filing (月报表备案); kept apart from
``schema/query.py`` and ``schema/mutation.py``, which include them."""

from __future__ import annotations

from typing import Annotated

import strawberry

from auth.permissions import IsAuthenticated
from resolvers import monthly_reports
from schema.info import Info
from schema.monthly_reports import FileMonthlyReportInput, MonthlyReportPayload, MonthlyReportType


@strawberry.type
class ReportMutation:
    @strawberry.mutation(
        description="月报表备案 (002): a town centre's director or admin files a month's report "
        "(figures, window staff assessment, complaints) once the month is over; due by the "
        "5th working day of the next month, later ones are marked late, a second is refused",
        permission_classes=[IsAuthenticated],
    )
    async def file_monthly_report(
        self, info: Info, input: FileMonthlyReportInput
    ) -> MonthlyReportPayload:
        return await monthly_reports.file_monthly_report(info, input)


@strawberry.type
class ReportQuery:
    @strawberry.field(
        description="月报表 filed by the town centres of a division (of one month), newest "
        "month first (the county's supervisors, admins and directors; auditors)",
        permission_classes=[IsAuthenticated],
    )
    async def monthly_reports(
        self,
        info: Info,
        division_code: str,
        month: Annotated[
            str | None, strawberry.argument(description="YYYY-MM; all months when left out")
        ] = None,
    ) -> list[MonthlyReportType]:
        return await monthly_reports.monthly_reports(info, division_code, month)
