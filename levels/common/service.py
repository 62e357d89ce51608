"""Reads of the tables every level store holds. Functions take ``*, session`` and
return ORM rows; callers decide which node's session to pass."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from levels.common.enums import HandlingKind, Level, MatterStatus, OnlineLevel
from levels.common.models import (
    Department,
    Division,
    ImplementationMaterial,
    MatterImplementation,
    ServiceOrg,
    Window,
)
from levels.common.ranges import within
from levels.common.reads import ReadRow, rows, table

_impl = table(MatterImplementation)


async def divisions_by_code(codes: Sequence[str], *, session: AsyncSession) -> list[Division]:
    rows = await session.scalars(select(Division).where(Division.code.in_(codes)))
    return list(rows)


async def divisions_by_parent(
    parent_codes: Sequence[str], *, session: AsyncSession
) -> list[Division]:
    stmt = select(Division).where(Division.parent_code.in_(parent_codes)).order_by(Division.code)
    return list(await session.scalars(stmt))


async def list_divisions(
    *,
    session: AsyncSession,
    level: Level,
    parent_code: str | None = None,
    within_prefix: str | None = None,
    after: str | None = None,
    limit: int,
) -> list[Division]:
    stmt = select(Division).where(Division.level == level)
    if parent_code is not None:
        stmt = stmt.where(Division.parent_code == parent_code)
    if within_prefix is not None:
        stmt = stmt.where(within(Division.code, within_prefix))
    if after is not None:
        stmt = stmt.where(Division.code > after)
    return list(await session.scalars(stmt.order_by(Division.code).limit(limit)))


async def orgs_by_division(codes: Sequence[str], *, session: AsyncSession) -> list[ServiceOrg]:
    stmt = select(ServiceOrg).where(ServiceOrg.division_code.in_(codes))
    return list(await session.scalars(stmt))


async def orgs_by_code(codes: Sequence[str], *, session: AsyncSession) -> list[ServiceOrg]:
    return list(await session.scalars(select(ServiceOrg).where(ServiceOrg.code.in_(codes))))


async def departments_by_id(ids: Sequence[str], *, session: AsyncSession) -> list[Department]:
    return list(await session.scalars(select(Department).where(Department.id.in_(ids))))


async def departments_by_org(
    org_codes: Sequence[str], *, session: AsyncSession
) -> list[Department]:
    stmt = select(Department).where(Department.org_code.in_(org_codes)).order_by(Department.id)
    return list(await session.scalars(stmt))


async def windows_by_org(org_codes: Sequence[str], *, session: AsyncSession) -> list[Window]:
    stmt = select(Window).where(Window.org_code.in_(org_codes)).order_by(Window.id)
    return list(await session.scalars(stmt))


async def windows_by_id(ids: Sequence[str], *, session: AsyncSession) -> list[Window]:
    return list(await session.scalars(select(Window).where(Window.id.in_(ids))))


async def implementations_by_code(
    codes: Sequence[str], *, session: AsyncSession
) -> list[MatterImplementation]:
    stmt = select(MatterImplementation).where(MatterImplementation.code.in_(codes))
    return list(await session.scalars(stmt))


async def implementations_by_division(
    division_codes: Sequence[str], *, session: AsyncSession
) -> list[MatterImplementation]:
    """The published implementation lists of the given divisions' service orgs."""
    stmt = (
        select(MatterImplementation)
        .where(MatterImplementation.division_code.in_(division_codes))
        .where(MatterImplementation.status == MatterStatus.PUBLISHED)
        .order_by(MatterImplementation.basic_code)
    )
    return list(await session.scalars(stmt))


async def implementations_by_basic_code(
    basic_codes: Sequence[str], *, session: AsyncSession
) -> list[MatterImplementation]:
    stmt = (
        select(MatterImplementation)
        .where(MatterImplementation.basic_code.in_(basic_codes))
        .order_by(MatterImplementation.division_code, MatterImplementation.basic_code)
    )
    return list(await session.scalars(stmt))


async def materials_by_implementation(
    codes: Sequence[str], *, session: AsyncSession
) -> list[ImplementationMaterial]:
    stmt = (
        select(ImplementationMaterial)
        .where(ImplementationMaterial.implementation_code.in_(codes))
        .order_by(ImplementationMaterial.implementation_code, ImplementationMaterial.position)
    )
    return list(await session.scalars(stmt))


def implementation_query(
    *,
    basic_codes: Sequence[str] | None = None,
    within_prefix: str | None = None,
    org_code: str | None = None,
    handling_kind: HandlingKind | None = None,
    online_level: OnlineLevel | None = None,
    max_visits: int | None = None,
    delegated_only: bool = False,
    status: MatterStatus | None = None,
    drafts_within: str | None = "",
) -> Select[Any]:
    """The filtered selection of implementation items a node holds (unordered), as
    whole Core rows (``levels/common/reads.py``).

    Draft items are kept only under the division-code prefix ``drafts_within`` (""
    keeps every draft, None keeps none): the viewer's reach per the policy table."""
    c = _impl.c
    stmt = select(_impl)
    if drafts_within is None:
        stmt = stmt.where(c.status != MatterStatus.DRAFT)
    elif drafts_within:
        stmt = stmt.where(
            or_(c.status != MatterStatus.DRAFT, within(c.division_code, drafts_within))
        )
    if basic_codes is not None:
        stmt = stmt.where(c.basic_code.in_(basic_codes))
    if within_prefix is not None:
        stmt = stmt.where(within(c.division_code, within_prefix))
    if org_code is not None:
        stmt = stmt.where(c.org_code == org_code)
    if handling_kind is not None:
        stmt = stmt.where(c.handling_kind == handling_kind)
    if online_level is not None:
        stmt = stmt.where(c.online_level == online_level)
    if max_visits is not None:
        stmt = stmt.where(c.max_visits <= max_visits)
    if delegated_only:
        stmt = stmt.where(c.delegated_from.is_not(None))
    if status is not None:
        stmt = stmt.where(c.status == status)
    return stmt


async def list_implementations(
    stmt: Select[Any],
    *,
    session: AsyncSession,
    after: tuple[str, str] | None,
    limit: int,
) -> Sequence[ReadRow]:
    """A page of implementation items ordered by (division code, basic code), which
    is unique across the whole network."""
    c = _impl.c
    if after is not None:
        stmt = stmt.where(tuple_(c.division_code, c.basic_code) > after)
    stmt = stmt.order_by(c.division_code, c.basic_code)
    return await rows(session, stmt.limit(limit))


async def basic_codes_implemented(stmt: Select[Any], *, session: AsyncSession) -> set[str]:
    sub = stmt.with_only_columns(_impl.c.basic_code).distinct()
    return set(await session.scalars(sub))
