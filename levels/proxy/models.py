"""Village proxy service (代办): a resident's recorded authorization of a village
agent, kept in the store of the agent's village."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, Enum, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from levels.common.enums import VillageServiceMode
from levels.common.models import LevelBase


def _enum(cls: type) -> Enum:
    return Enum(cls, native_enum=False, length=32, validate_strings=True)


class AuthorizationMethod(enum.Enum):
    """How the resident gave the authorization."""

    WRITTEN = "WRITTEN"  # 书面授权委托书, signed
    IN_PERSON = "IN_PERSON"  # 当面口头授权, recorded by the agent with a witness
    MOBILE = "MOBILE"  # confirmed by the resident in the mobile app


class ProxyAuthorization(LevelBase):
    __tablename__ = "proxy_authorizations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # uuid4 hex
    village_code: Mapped[str] = mapped_column(String(12), index=True)
    resident_id: Mapped[str] = mapped_column(String(32), index=True)  # account id
    resident_name: Mapped[str] = mapped_column(String(100))
    resident_id_masked: Mapped[str] = mapped_column(String(18))
    phone: Mapped[str] = mapped_column(String(20))  # 联系电话, for the ledger
    agent_id: Mapped[str] = mapped_column(String(32), index=True)
    basic_code: Mapped[str] = mapped_column(String(12))  # which matter
    scope: Mapped[str] = mapped_column(Text)  # 授权范围, as the resident worded it
    mode: Mapped[VillageServiceMode] = mapped_column(_enum(VillageServiceMode))
    method: Mapped[AuthorizationMethod] = mapped_column(_enum(AuthorizationMethod))
    granted_at: Mapped[dt.datetime]
    expires_on: Mapped[dt.date] = mapped_column(Date)
    revoked_at: Mapped[dt.datetime | None]
