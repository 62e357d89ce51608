"""Batch reads of licences, their uses and types, by key: what the DataLoaders call."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.licences.models import ELicence, LicenceType, LicenceUse


async def licences_by_case(numbers: Sequence[str], *, session: AsyncSession) -> Sequence[ELicence]:
    return (
        await session.scalars(
            select(ELicence)
            .where(ELicence.source_case_number.in_(numbers))
            .order_by(ELicence.issued_at, ELicence.id)
        )
    ).all()


async def licences_by_id(ids: Sequence[str], *, session: AsyncSession) -> Sequence[ELicence]:
    return (await session.scalars(select(ELicence).where(ELicence.id.in_(ids)))).all()


async def uses_by_licence(ids: Sequence[str], *, session: AsyncSession) -> Sequence[LicenceUse]:
    return (
        await session.scalars(
            select(LicenceUse)
            .where(LicenceUse.licence_id.in_(ids))
            .order_by(LicenceUse.used_at, LicenceUse.id)
        )
    ).all()


async def types_by_code(codes: Sequence[str], *, session: AsyncSession) -> Sequence[LicenceType]:
    return (await session.scalars(select(LicenceType).where(LicenceType.code.in_(codes)))).all()
