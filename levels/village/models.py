"""Tables of the village station's service modes (即时办理、全程代办、陪同办理、上门办理),
in the store of the village level: the mode a case was handled in, who accompanied
the resident, the proxy fee and why it was waived, and the home visits made."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, Enum, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from levels.common.enums import VillageServiceMode
from levels.common.models import LevelBase


def _enum(cls: type) -> Enum:
    return Enum(cls, native_enum=False, length=32, validate_strings=True)


class FeeWaiver(enum.Enum):
    """Why 代办 was free for the resident (003 "对残疾人和行动不便的老人…免费代办")."""

    DISABILITY_CERTIFICATE = "DISABILITY_CERTIFICATE"  # holds a valid 残疾人证 (CJRZ)
    AGE = "AGE"  # at or over the stated age


class VillageService(LevelBase):
    """How the station served one case it received: its mode, who accompanied the
    resident (陪同办理), and the proxy fee — zero, with the reason, for a resident the
    seed says is served free."""

    __tablename__ = "village_services"

    case_number: Mapped[str] = mapped_column(String(27), primary_key=True)
    village_code: Mapped[str] = mapped_column(String(12), index=True)
    mode: Mapped[VillageServiceMode] = mapped_column(_enum(VillageServiceMode))
    accompanied_by: Mapped[str | None] = mapped_column(String(100))
    fee_fen: Mapped[int] = mapped_column(Integer, default=0)  # 分 (1/100 yuan)
    fee_waiver: Mapped[FeeWaiver | None] = mapped_column(_enum(FeeWaiver))
    waiver_licence_id: Mapped[str | None] = mapped_column(String(64))  # the 残疾人证
    resident_age: Mapped[int | None] = mapped_column(Integer)
    recorded_by: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[dt.datetime]


class HomeVisit(LevelBase):
    """One 上门办理 visit to a resident for a case: when, who went, where."""

    __tablename__ = "home_visits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_number: Mapped[str] = mapped_column(String(27), index=True)
    village_code: Mapped[str] = mapped_column(String(12), index=True)
    visited_on: Mapped[dt.date] = mapped_column(Date)
    staff: Mapped[str] = mapped_column(Text)  # the names of who went, as recorded
    place: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[dt.datetime]
