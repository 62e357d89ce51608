"""Batch reads of a case's parts, supervision cards, materials and events, by case
number: what the DataLoaders call."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.audit.models import AuditEvent
from levels.cases.models import CaseMaterial, CasePart, SupervisionCard
from levels.cases.service import NOT_STEPS


async def parts_by_case(numbers: Sequence[str], *, session: AsyncSession) -> Sequence[CasePart]:
    return (
        await session.scalars(
            select(CasePart)
            .where(CasePart.case_number.in_(numbers))
            .order_by(CasePart.case_number, CasePart.position)
        )
    ).all()


async def cards_by_case(
    numbers: Sequence[str], *, session: AsyncSession
) -> Sequence[SupervisionCard]:
    return (
        await session.scalars(
            select(SupervisionCard)
            .where(SupervisionCard.case_number.in_(numbers))
            .order_by(SupervisionCard.case_number, SupervisionCard.id)
        )
    ).all()


async def materials_by_case(
    numbers: Sequence[str], *, session: AsyncSession
) -> Sequence[CaseMaterial]:
    return (
        await session.scalars(
            select(CaseMaterial)
            .where(CaseMaterial.case_number.in_(numbers))
            .order_by(CaseMaterial.case_number, CaseMaterial.id)
        )
    ).all()


async def events_by_case(numbers: Sequence[str], *, session: AsyncSession) -> Sequence[AuditEvent]:
    """The audit events of these cases that changed or recorded something (reads by
    staff are audited too, but are not part of a case's timeline)."""
    return (
        await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.case_number.in_(numbers), AuditEvent.action.not_in(NOT_STEPS))
            .order_by(AuditEvent.at, AuditEvent.division_code, AuditEvent.seq)
        )
    ).all()
