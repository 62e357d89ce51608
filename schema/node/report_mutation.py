"""The node's mutation that files a town centre's monthly report (月报表备案):
``fileMonthlyReport``, by the rules of ``levels/supervision/filing.py`` in the node's own
transaction (``levels/node/monthly_reports.py``) with its audit event in the division's
chain. Who may file is the hub's check, before it calls. Merged into the node's
``Mutation`` in ``schema/node/__init__.py``."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from levels.common.errors import DomainError, ErrorCode
from levels.node import monthly_reports
from levels.node.monthly_reports import FilingAsk
from levels.supervision.models import MonthlyReport
from schema.node.mutation import ActorInput, HubNow, StepRefusal, _refusal
from schema.node.types import NodeInfo, row_columns

# the due day's bounds (GOVHUB_MONTHLY_REPORT_WORKDAY's)
WORKDAYS = range(1, 21)


@strawberry.type(description="What became of a monthly report's filing")
class FilingResult:
    columns: JSON | None = strawberry.field(
        description="The report as filed, every column (none: refused, nothing written)"
    )
    error: StepRefusal | None = strawberry.field(description="Why it was refused")


@strawberry.type(name="ReportMutation", description="Filing the monthly report, here")
class ReportMutations:
    @strawberry.mutation(
        description="月报表备案: the monthly report of the town centre `orgCode` (of "
        "`divisionCode`, which this node owns) for `month` (YYYY-MM), with the figures "
        "the hub read across the nodes; its window staff assessment and complaints read "
        "here, due on the `workday`th working day of the next month by this node's "
        "calendar, in its own transaction. DIVISION_NOT_OWNED for a division not this "
        "node's; NOT_A_TOWN_CENTRE, MONTH_NOT_OVER, ALREADY_FILED refused"
    )
    async def file_monthly_report(
        self,
        info: NodeInfo,
        org_code: Annotated[str, strawberry.argument(description="The org's credit code")],
        division_code: Annotated[str, strawberry.argument(description="The org's division")],
        month: Annotated[str, strawberry.argument(description="YYYY-MM")],
        figures: Annotated[JSON, strawberry.argument(description="业务办理: the figures")],
        filed_by: Annotated[str, strawberry.argument(description="The filer's account")],
        filed_by_name: Annotated[str, strawberry.argument(description="The filer's name")],
        workday: Annotated[
            int, strawberry.argument(description="Due on this working day (the hub's setting)")
        ],
        actor: ActorInput,
        now: HubNow,
    ) -> FilingResult:
        context = info.context
        context.scope.require(division_code, field="divisionCode")
        if workday not in WORKDAYS:
            raise DomainError(ErrorCode.BAD_USER_INPUT, field=["workday"], detail=str(workday))
        if not isinstance(figures, dict):
            raise DomainError(ErrorCode.BAD_USER_INPUT, field=["figures"], detail="an object")
        ask = FilingAsk(org_code, division_code, month, figures, filed_by, filed_by_name)
        outcome = await monthly_reports.file_report(
            context.sessions, ask, actor=actor.actor(), now=now, workday=workday
        )
        row = outcome.row
        return FilingResult(
            columns=None if row is None else row_columns(MonthlyReport, row),
            error=_refusal(outcome.error, context.locale),
        )
