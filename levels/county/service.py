"""Delegations of county matters to towns (委托/下放): read side."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.common.ranges import within
from levels.county.models import Delegation, DelegationTarget


@dataclass(frozen=True)
class DelegationView:
    """A delegation with the towns it names (empty when it goes to all towns)."""

    row: Delegation
    towns: tuple[str, ...]

    def covers(self, town_code: str) -> bool:
        return self.row.all_towns or town_code in self.towns

    def in_force(self, now: dt.datetime) -> bool:
        return self.row.in_force(now.date(), now)


async def _with_targets(
    rows: Sequence[Delegation], *, session: AsyncSession
) -> list[DelegationView]:
    ids = [r.id for r in rows]
    targets: dict[str, list[str]] = {i: [] for i in ids}
    if ids:
        stmt = select(DelegationTarget).where(DelegationTarget.delegation_id.in_(ids))
        for t in await session.scalars(stmt):
            targets[t.delegation_id].append(t.town_code)
    return [DelegationView(r, tuple(sorted(targets[r.id]))) for r in rows]


async def delegations_by_id(ids: Sequence[str], *, session: AsyncSession) -> list[DelegationView]:
    rows = list(await session.scalars(select(Delegation).where(Delegation.id.in_(ids))))
    return await _with_targets(rows, session=session)


async def list_delegations(
    *,
    session: AsyncSession,
    county_prefix: str | None,
    to_town: str | None,
    active_at: dt.datetime | None,
) -> list[DelegationView]:
    """Delegations from counties under ``county_prefix`` (all when None), to ``to_town``
    when given, in force at ``active_at`` when given; ordered by id."""
    stmt = select(Delegation).order_by(Delegation.id)
    if county_prefix is not None:
        stmt = stmt.where(within(Delegation.from_division_code, county_prefix))
    views = await _with_targets(list(await session.scalars(stmt)), session=session)
    if to_town is not None:
        views = [v for v in views if v.covers(to_town)]
    if active_at is not None:
        views = [v for v in views if v.in_force(active_at)]
    return views
