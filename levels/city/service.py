"""The matter catalogue (基本目录), owned by the city node."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.city.models import Matter
from levels.common.enums import MatterStatus, MatterType


async def matters_by_code(codes: Sequence[str], *, session: AsyncSession) -> list[Matter]:
    return list(await session.scalars(select(Matter).where(Matter.basic_code.in_(codes))))


async def search_matters(
    *,
    session: AsyncSession,
    keyword: str | None = None,
    type: MatterType | None = None,
    status: MatterStatus | None = None,
    basic_codes: Collection[str] | None = None,
    after: str | None = None,
    limit: int,
) -> list[Matter]:
    """A page of the catalogue ordered by basic code."""
    stmt = select(Matter)
    if keyword:
        stmt = stmt.where(Matter.name.contains(keyword, autoescape=True))
    if type is not None:
        stmt = stmt.where(Matter.type == type)
    if status is not None:
        stmt = stmt.where(Matter.status == status)
    if basic_codes is not None:
        stmt = stmt.where(Matter.basic_code.in_(sorted(basic_codes)))
    if after is not None:
        stmt = stmt.where(Matter.basic_code > after)
    return list(await session.scalars(stmt.order_by(Matter.basic_code).limit(limit)))


async def basic_codes_matching(keyword: str, *, session: AsyncSession) -> set[str]:
    stmt = select(Matter.basic_code).where(Matter.name.contains(keyword, autoescape=True))
    return set(await session.scalars(stmt))
