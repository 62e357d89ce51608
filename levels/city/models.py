"""The city node owns the matter catalogue (基本目录)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, Integer, String, Text
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
    # the catalogue version (``CataloguePublication.version``) that last published it;
    # null until ``publishCatalogue`` first runs (the demo's seeded batch)
    published_version: Mapped[int | None] = mapped_column(Integer)


class CataloguePublication(LevelBase):
    """One publication of the lists (000: "于6月、12月…集中公布1次"): its version, the
    batch, who published it and when, whether it was an urgent adjustment outside June
    and December (and why), and the catalogue as it was published — every version stays
    readable."""

    __tablename__ = "catalogue_publications"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    batch: Mapped[str] = mapped_column(String(7), index=True)  # "2026-12"
    published_at: Mapped[dt.datetime]
    published_by: Mapped[str] = mapped_column(String(32))
    urgent: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str | None] = mapped_column(Text)
    # [{"basicCode", "name", "type", "department", "legalBasis", "legalTimeLimitDays",
    #   "status", "version"}], in order of basic code
    matters: Mapped[list[Any]] = mapped_column(JSON)
