"""The working-day calendar's override table: days whose status the State Council has
announced (holidays, make-up working days), imported per year with
``govhub calendar import``, for years the ``chinesecalendar`` package does not know yet
(or to correct it)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from levels.common.models import LevelBase


class CalendarDay(LevelBase):
    __tablename__ = "calendar_days"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    is_working_day: Mapped[bool]
    name: Mapped[str] = mapped_column(String(64), default="")


class CalendarYear(LevelBase):
    """A year whose whole schedule has been imported: its weekends and weekdays count
    as usual except for the days listed in ``calendar_days``."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(256), default="")
    imported_at: Mapped[dt.datetime]
