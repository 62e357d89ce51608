"""Tables every level node holds. Each of the four level stores runs the same schema
(one Alembic chain, ``alembic/levels``); a table owned by one level (the city's matter
catalogue, the county's delegations) is defined in that level's package and simply
stays empty elsewhere."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import JSON, Boolean, DateTime, Dialect, Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from levels.common.enums import (
    HandlingKind,
    Level,
    MaterialForm,
    MatterStatus,
    OnlineLevel,
    OrgKind,
    WindowKind,
)


def _enum(cls: type) -> Enum:
    return Enum(cls, native_enum=False, length=32, validate_strings=True)


class AwareDateTime(TypeDecorator[dt.datetime]):
    """A timestamp that is always timezone-aware in Python. PostgreSQL keeps the
    offset (timestamptz); SQLite keeps none, so values are stored in UTC and read
    back as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: GovHub stores instants with their offset")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=dt.UTC)


class LevelBase(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        dt.datetime: AwareDateTime,
    }


class Division(LevelBase):
    __tablename__ = "divisions"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[Level] = mapped_column(_enum(Level))
    parent_code: Mapped[str | None] = mapped_column(String(12), index=True)


class ServiceOrg(LevelBase):
    """The service body of a division: 政务服务中心 / 分中心 / 便民服务中心 / 便民服务站."""

    __tablename__ = "service_orgs"

    code: Mapped[str] = mapped_column(String(18), primary_key=True)  # USCC
    division_code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    level: Mapped[Level] = mapped_column(_enum(Level))
    kind: Mapped[OrgKind] = mapped_column(_enum(OrgKind))
    address: Mapped[str] = mapped_column(String(256), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    opening_hours: Mapped[str] = mapped_column(String(128), default="")


class Department(LevelBase):
    __tablename__ = "departments"

    # division code + "D" + two digits: the level is readable from the id
    id: Mapped[str] = mapped_column(String(15), primary_key=True)
    org_code: Mapped[str] = mapped_column(ForeignKey("service_orgs.code"), index=True)
    name: Mapped[str] = mapped_column(String(64))


class Window(LevelBase):
    __tablename__ = "windows"

    # division code + "W" + two digits
    id: Mapped[str] = mapped_column(String(15), primary_key=True)
    org_code: Mapped[str] = mapped_column(ForeignKey("service_orgs.code"), index=True)
    number: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[WindowKind] = mapped_column(_enum(WindowKind))
    department_ids: Mapped[list[Any]] = mapped_column(default=list)


class MatterImplementation(LevelBase):
    """An item of an implementing body's 实施清单. Lives in the store of its level."""

    __tablename__ = "matter_implementations"

    code: Mapped[str] = mapped_column(String(31), primary_key=True)
    basic_code: Mapped[str] = mapped_column(String(12), index=True)
    org_code: Mapped[str] = mapped_column(ForeignKey("service_orgs.code"), index=True)
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    level: Mapped[Level] = mapped_column(_enum(Level))
    department_id: Mapped[str | None] = mapped_column(String(15))
    handling_kind: Mapped[HandlingKind] = mapped_column(_enum(HandlingKind))
    promised_time_limit_days: Mapped[int] = mapped_column(Integer)
    promise_exception_reason: Mapped[str | None] = mapped_column(Text)
    conditions: Mapped[str] = mapped_column(Text, default="")
    # value objects: [{"kind": SpecialProcedureKind, "timeLimitDays": int}]
    special_procedures: Mapped[list[Any]] = mapped_column(default=list)
    # [{"name": str, "amountYuan": str, "basis": str}]
    fees: Mapped[list[Any]] = mapped_column(default=list)
    max_visits: Mapped[int] = mapped_column(Integer)
    online_level: Mapped[OnlineLevel] = mapped_column(_enum(OnlineLevel))
    delivery_methods: Mapped[list[Any]] = mapped_column(default=list)
    village_modes: Mapped[list[Any]] = mapped_column(default=list)
    # levels below the deciding one where a resident may hand the application in
    receive_levels: Mapped[list[Any]] = mapped_column(default=list)
    # the town centre reviews first (初审) before reporting up
    preliminary_review: Mapped[bool] = mapped_column(Boolean, default=False)
    # 转报时限: working days a case received below this item's org has, from receipt, to
    # reach it (null: the hub's setting ``referral_limit_days``)
    referral_limit_days: Mapped[int | None] = mapped_column(Integer)
    delegated_from: Mapped[str | None] = mapped_column(String(31), index=True)
    delegation_id: Mapped[str | None] = mapped_column(String(20))
    # the e-licence type an approval of this item issues (电子证照), if any
    issues_licence_type: Mapped[str | None] = mapped_column(String(16))
    # 容缺承诺: what follows a tolerated material not handed in by the promised date
    # (a ``ToleranceConsequence``); None: the receiving window states it per case
    tolerance_consequence: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[MatterStatus] = mapped_column(_enum(MatterStatus))
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(AwareDateTime)


class ImplementationMaterial(LevelBase):
    __tablename__ = "implementation_materials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    implementation_code: Mapped[str] = mapped_column(
        ForeignKey("matter_implementations.code", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(128))
    basis: Mapped[str] = mapped_column(Text, default="")
    form: Mapped[MaterialForm] = mapped_column(_enum(MaterialForm))
    copies: Mapped[int] = mapped_column(Integer, default=1)
    tolerable: Mapped[bool] = mapped_column(Boolean, default=False)
    satisfied_by_licence_type: Mapped[str | None] = mapped_column(String(32))
