"""The city node owns the matter catalogue (基本目录)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from levels.common.enums import MatterStatus, MatterType
from levels.common.models import LevelBase, _enum


class Matter(LevelBase):
    __tablename__ = "matters"

    basic_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), index=True)
    type: Mapped[MatterType] = mapped_column(_enum(MatterType))
    department: Mapped[str] = mapped_column(String(64))
    legal_basis: Mapped[str] = mapped_column(Text)
    legal_time_limit_days: Mapped[int] = mapped_column(Integer)
    status: Mapped[MatterStatus] = mapped_column(_enum(MatterStatus))
    version: Mapped[int] = mapped_column(Integer, default=1)
    # lists are republished twice a year (June and December): e.g. "2026-06"
    published_batch: Mapped[str] = mapped_column(String(7))
    published_on: Mapped[dt.date] = mapped_column(Date)
