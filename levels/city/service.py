"""The matter catalogue (基本目录), owned by the city node."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.city.models import Matter
from levels.common.enums import MatterStatus, MatterType
from levels.common.reads import OneOf, ReadRow, rows, table

# reads of the catalogue as Core rows (``levels/common/reads.py``), built once
_matter = table(Matter)
_MATTERS_BY_CODE = select(_matter).where(OneOf(_matter.c.basic_code, "codes"))


async def matters_by_code(codes: Sequence[str], *, session: AsyncSession) -> Sequence[ReadRow]:
    return await rows(session, _MATTERS_BY_CODE, {"codes": list(codes)})


async def search_matters(
    *,
    session: AsyncSession,
    keyword: str | None = None,
    type: MatterType | None = None,
    status: MatterStatus | None = None,
    basic_codes: Collection[str] | None = None,
    after: str | None = None,
    limit: int,
) -> Sequence[ReadRow]:
    """A page of the catalogue ordered by basic code (Core rows)."""
    c = _matter.c
    stmt = select(_matter)
    if keyword:
        stmt = stmt.where(c.name.contains(keyword, autoescape=True))
    if type is not None:
        stmt = stmt.where(c.type == type)
    if status is not None:
        stmt = stmt.where(c.status == status)
    if basic_codes is not None:
        stmt = stmt.where(OneOf(c.basic_code, "basic_codes"))
    if after is not None:
        stmt = stmt.where(c.basic_code > after)
    stmt = stmt.order_by(c.basic_code).limit(limit)
    params = {"basic_codes": sorted(basic_codes)} if basic_codes is not None else {}
    return await rows(session, stmt, params)


async def basic_codes_matching(keyword: str, *, session: AsyncSession) -> set[str]:
    stmt = select(Matter.basic_code).where(Matter.name.contains(keyword, autoescape=True))
    return set(await session.scalars(stmt))
