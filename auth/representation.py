"""Who may apply in an enterprise's name (企业经办): its legal representative, or a
person it authorized, until the authorization expires or is revoked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.enums import AccountKind, RepresentativeRole
from auth.models import Account, Representation


def _current(now: dt.datetime) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return (
        Representation.revoked_at.is_(None),
        or_(Representation.valid_until.is_(None), Representation.valid_until > now),
    )


async def represents(
    person_id: str, enterprise_id: str, *, session: AsyncSession, now: dt.datetime
) -> bool:
    row = await session.scalar(
        select(Representation.role).where(
            Representation.person_id == person_id,
            Representation.enterprise_id == enterprise_id,
            *_current(now),
        )
    )
    return row is not None


async def represented_by(
    person_id: str, *, session: AsyncSession, now: dt.datetime
) -> Sequence[tuple[Account, Representation]]:
    """The enterprises a person may act for now, by name."""
    rows = await session.execute(
        select(Account, Representation)
        .join(Representation, Representation.enterprise_id == Account.id)
        .where(Representation.person_id == person_id, *_current(now))
        .order_by(Account.display_name)
    )
    return [(a, r) for a, r in rows]


async def add_representation(
    enterprise: Account,
    person: Account,
    role: RepresentativeRole,
    *,
    session: AsyncSession,
    now: dt.datetime,
    valid_until: dt.datetime | None = None,
) -> Representation:
    if enterprise.kind is not AccountKind.ENTERPRISE or person.kind is not AccountKind.PERSON:
        raise ValueError("a person represents an enterprise")
    row = Representation(
        enterprise_id=enterprise.id,
        person_id=person.id,
        role=role,
        valid_until=valid_until,
        created_at=now,
    )
    session.add(row)
    return row
