"""The county node keeps its delegations (委托/下放) of matters to its towns."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from levels.common.models import AwareDateTime, LevelBase


class Delegation(LevelBase):
    __tablename__ = "delegations"

    # county division code + "-G" + four digits: routes to the county node by its key
    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    implementation_code: Mapped[str] = mapped_column(String(31), index=True)
    basic_code: Mapped[str] = mapped_column(String(12), index=True)
    from_org_code: Mapped[str] = mapped_column(String(18))
    from_division_code: Mapped[str] = mapped_column(String(12), index=True)
    all_towns: Mapped[bool] = mapped_column(Boolean)
    legal_instrument: Mapped[str] = mapped_column(Text)
    effective_from: Mapped[dt.date] = mapped_column(Date)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime)
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime)

    def in_force(self, today: dt.date, now: dt.datetime) -> bool:
        return self.effective_from <= today and (self.revoked_at is None or self.revoked_at > now)


class DelegationTarget(LevelBase):
    """The towns a delegation names when it is not to all towns of the county."""

    __tablename__ = "delegation_targets"

    delegation_id: Mapped[str] = mapped_column(
        ForeignKey("delegations.id", ondelete="CASCADE"), primary_key=True
    )
    town_code: Mapped[str] = mapped_column(String(12), primary_key=True)
