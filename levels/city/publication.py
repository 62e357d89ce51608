"""Publication of the lists (000: "于6月、12月…集中公布1次"): each publication is a new
version of the catalogue, kept as it was published. A regular publication happens in
June or December, once a batch; in any month an urgent adjustment (紧急调整) may publish
with its reason recorded."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.city.errors import CatalogueErrorCode
from levels.city.models import CataloguePublication, Matter
from levels.common.clock import CHINA
from levels.common.errors import DomainError

PUBLICATION_MONTHS = frozenset({6, 12})
REASON_MAX_CHARS = 2000


def batch_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def snapshot(m: Matter) -> dict[str, object]:
    """A matter as a published version keeps it."""
    return {
        "basicCode": m.basic_code,
        "name": m.name,
        "type": m.type.value,
        "department": m.department,
        "legalBasis": m.legal_basis,
        "legalTimeLimitDays": m.legal_time_limit_days,
        "status": m.status.value,
        "version": m.version,
    }


async def publish_catalogue(
    *,
    session: AsyncSession,
    now: dt.datetime,
    by: str,
    urgent: bool,
    reason: str | None,
) -> CataloguePublication:
    """Publish the catalogue as it stands now as the next version. Outside June and
    December, or a second time in a batch, only as an urgent adjustment with a reason."""
    today = now.astimezone(CHINA).date()
    why = (reason or "").strip() or None
    if urgent and why is None:
        raise DomainError(CatalogueErrorCode.URGENT_REASON_REQUIRED, field=["input", "reason"])
    if why is not None and len(why) > REASON_MAX_CHARS:
        raise DomainError(
            CatalogueErrorCode.REASON_TOO_LONG,
            field=["input", "reason"],
            detail=f"≤ {REASON_MAX_CHARS}",
        )
    batch = batch_of(today)
    if not urgent:
        if today.month not in PUBLICATION_MONTHS:
            raise DomainError(
                CatalogueErrorCode.OUTSIDE_PUBLICATION_MONTHS, field=["input", "urgent"]
            )
        done = await session.scalar(
            select(func.count())
            .select_from(CataloguePublication)
            .where(CataloguePublication.batch == batch, CataloguePublication.urgent.is_(False))
        )
        if done:
            raise DomainError(CatalogueErrorCode.BATCH_ALREADY_PUBLISHED, field=["input", "urgent"])
    last = await session.scalar(select(func.max(CataloguePublication.version)))
    version = (last or 0) + 1
    matters = list(await session.scalars(select(Matter).order_by(Matter.basic_code)))
    publication = CataloguePublication(
        version=version,
        batch=batch,
        published_at=now,
        published_by=by,
        urgent=urgent,
        reason=why,
        matters=[snapshot(m) for m in matters],
    )
    session.add(publication)
    for m in matters:
        m.published_batch = batch
        m.published_on = today
        m.published_version = version
    await session.flush()
    return publication


async def publications(
    *, session: AsyncSession, version: int | None = None
) -> Sequence[CataloguePublication]:
    """Every published version, newest first (or the one asked for)."""
    stmt = select(CataloguePublication).order_by(CataloguePublication.version.desc())
    if version is not None:
        stmt = stmt.where(CataloguePublication.version == version)
    return (await session.scalars(stmt)).all()
