"""Filing the monthly report (月报表备案) at the node that keeps the town centre (DESIGN
§2, "A node is a service"): ``fileMonthlyReport`` asked by the hub, written by the
rules of ``levels/supervision/filing.py`` in the node's own transaction — the report
(its window staff assessment and the month's complaints read from this store, due by
this store's work calendar) and its audit event in the division's chain, together or
nothing.

What the report takes from elsewhere comes with the call: its figures (the hub's
``collect`` over every node under the division, as the ``supervision`` query reads
them), who files it (the account and its name, from the identity store) and the
working day it is due on (the hub's setting). Who may file is the hub's check; the
rules here check the rest again (a town centre, a month over, not filed yet).

``file_in`` is the one flow of both paths: the hub writing an unaddressed node's store
by SQL runs it in its own transaction, a node runs it here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from levels.calendar.workdays import load_calendar
from levels.cases.service import Actor
from levels.common.errors import DomainError, ErrorCode
from levels.common.models import ServiceOrg
from levels.node.ratings import written
from levels.supervision import filing
from levels.supervision.models import MonthlyReport
from levels.supervision.period import Period, month_period


async def file_in(
    session: AsyncSession,
    draft: filing.Filing,
    *,
    actor: Actor,
    now: dt.datetime,
    workday: int,
) -> MonthlyReport:
    """File ``draft`` in the caller's transaction of the store keeping its org, due by
    that store's work calendar on its ``workday``th working day."""
    return await filing.file_report(
        draft,
        session=session,
        actor=actor,
        now=now,
        calendar=await load_calendar(session=session),
        workday=workday,
    )


@dataclass(frozen=True)
class FilingAsk:
    """A filing as the hub asks it of a node: the org (by credit code, with its
    division), the month, the figures read across the nodes, who files it."""

    org_code: str
    division_code: str
    month: str
    figures: Mapping[str, Any]
    filed_by: str
    filed_by_name: str

    def period(self) -> Period:
        """The month filed (INVALID_MONTH otherwise)."""
        try:
            return month_period(self.month.strip())
        except DomainError as e:
            raise DomainError(e.code, field=["input", "month"]) from None

    def draft(self, org: ServiceOrg) -> filing.Filing:
        """The filing of ``org``'s report this asks for."""
        return filing.Filing(
            org=org,
            period=self.period(),
            figures=dict(self.figures),
            filed_by=self.filed_by,
            filed_by_name=self.filed_by_name,
        )


@dataclass(frozen=True)
class FilingOutcome:
    """The report as filed (None: refused, nothing written) and the refusal."""

    row: MonthlyReport | None
    error: DomainError | None = None


async def file_report(
    sessions: async_sessionmaker[AsyncSession],
    ask: FilingAsk,
    *,
    actor: Actor,
    now: dt.datetime,
    workday: int,
) -> FilingOutcome:
    """The filing ``ask`` in this node's transaction: its org read here (ORG_NOT_FOUND
    when this store has no such org in that division); a refusal writes nothing."""

    async def work(session: AsyncSession) -> MonthlyReport:
        org = await session.scalar(
            select(ServiceOrg).where(
                ServiceOrg.code == ask.org_code, ServiceOrg.division_code == ask.division_code
            )
        )
        if org is None:
            raise DomainError(ErrorCode.ORG_NOT_FOUND, field=["input", "orgCode"])
        return await file_in(session, ask.draft(org), actor=actor, now=now, workday=workday)

    row, error = await written(sessions, work)
    return FilingOutcome(row, error)
