"""The end of a licence's validity (``valid_until``): EXPIRED from the next day on.

The timer worker marks it so in the issuing store (``expire_due``) and the library hears
of it through the outbox; until both have happened the row may still say VALID. So the
rule has one home here and is read by every write: ``status_on`` is the status the
worker leaves a licence with on a day, checked by each use of the library (reuse as a
material, a copy); ``expire_if_due`` is the worker's step on one licence, which a change
at the issuer (suspend, reinstate, revoke, reissue) takes first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from contextlib import nullcontext

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.common.enums import Level
from levels.common.errors import DomainError
from levels.licences.enums import LicenceStatus
from levels.licences.models import ELicence
from levels.licences.service import (
    TRANSITIONS,
    _audit,
    _move,
    _publish,
    _System,
    china_day,
    load_master,
)

EXPIRE_ACTION = "EXPIRE_LICENCE"


def status_on(row: ELicence, today: dt.date, status: LicenceStatus | None = None) -> LicenceStatus:
    """The licence's status as the timer worker leaves it on ``today``: VALID or
    SUSPENDED past the validity end is EXPIRED, marked so yet or not (the worker may not
    have passed, or its message not reached the library). ``status``: the one to start
    from when it is not the row's own (what the issuer holds now)."""
    held = row.status if status is None else status
    allowed, _ = TRANSITIONS[EXPIRE_ACTION]
    if held in allowed and row.valid_until is not None and row.valid_until < today:
        return LicenceStatus.EXPIRED
    return held


async def expire_if_due(session: AsyncSession, row: ELicence, now: dt.datetime) -> bool:
    """The worker's step on one licence of the issuing store (locked by the caller):
    marked EXPIRED, audited and sent to the library, once its validity has ended; True
    when this call did it."""
    if row.status is LicenceStatus.EXPIRED:
        return False
    if status_on(row, china_day(now)) is not LicenceStatus.EXPIRED:
        return False
    before = row.status
    _move(row, LicenceStatus.EXPIRED, None, now)
    await session.flush()
    await _audit(session, row, _System(), EXPIRE_ACTION, before, now, {})
    await _publish(session, row, now)
    return True


async def change_after_expiry(
    session: AsyncSession,
    key: str,
    now: dt.datetime,
    change: Callable[[AsyncSession], Awaitable[ELicence]],
) -> tuple[ELicence | None, DomainError | None]:
    """``change`` of licence ``key`` in the issuing store's transaction, committed, after
    ``expire_if_due``: the licence as it then stands and None. A change that the expiry
    makes impossible is refused in a savepoint and the expiry kept: the licence as it
    now stands and the refusal. Any other refusal rolls everything back and is raised."""
    expired = False
    try:
        master = await load_master(session, key)
        expired = await expire_if_due(session, master, now)
        # after the expiry, the change in a savepoint: refused, it leaves it
        async with session.begin_nested() if expired else nullcontext():
            row = await change(session)
        await session.commit()
    except DomainError as e:
        if not expired:
            await session.rollback()
            raise
        await session.commit()
        return await session.get(ELicence, key, populate_existing=True), e
    except BaseException:
        await session.rollback()
        raise
    return row, None


async def expire_due(
    session: AsyncSession, level: Level, now: dt.datetime, *, batch: int = 200
) -> int:
    """Mark the licences of this store's orgs whose validity ended as EXPIRED (the
    timer worker runs it: the validity end is the row's deadline)."""
    today = china_day(now)
    rows = (
        await session.scalars(
            select(ELicence)
            .where(
                ELicence.issuer_level == level,
                ELicence.status.in_(TRANSITIONS[EXPIRE_ACTION][0]),
                ELicence.valid_until < today,
            )
            .order_by(ELicence.valid_until, ELicence.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
    ).all()
    expired = 0
    for row in rows:
        expired += await expire_if_due(session, row, now)
    return expired
