"""Filed monthly reports (月报表备案), in the store of the filing town centre: 002 "于每月
第五个工作日前将上月的业务办理、窗口工作人员考核和服务对象投诉等工作情况报县政务中心备案"."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from levels.common.models import LevelBase


class MonthlyReport(LevelBase):
    """One org's report of one month, as filed: the figures, the window staff
    assessment and the complaints of the month, who filed it and when, the day it was
    due and whether it came after it."""

    __tablename__ = "monthly_reports"
    __table_args__ = (UniqueConstraint("org_code", "month"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # uuid4 hex
    org_code: Mapped[str] = mapped_column(String(18))
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    due_on: Mapped[dt.date] = mapped_column(Date)
    late: Mapped[bool] = mapped_column(default=False)
    figures: Mapped[dict[str, Any]] = mapped_column(default=dict)
    staff: Mapped[list[Any]] = mapped_column(default=list)
    complaints: Mapped[list[Any]] = mapped_column(default=list)
    filed_by: Mapped[str] = mapped_column(String(32))
    filed_by_name: Mapped[str] = mapped_column(String(100))
    filed_at: Mapped[dt.datetime]
