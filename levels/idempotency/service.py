"""Reading, completing and purging idempotency records in one level store."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from levels.idempotency.models import IdempotencyRecord


async def find(
    session: AsyncSession, client: str, operation: str, key: str, now: dt.datetime
) -> IdempotencyRecord | None:
    """The live record of a key (an expired one counts as none)."""
    return cast(
        IdempotencyRecord | None,
        await session.scalar(
            select(IdempotencyRecord).where(
                IdempotencyRecord.client == client,
                IdempotencyRecord.operation == operation,
                IdempotencyRecord.key == key,
                IdempotencyRecord.expires_at > now,
            )
        ),
    )


async def drop_expired_key(
    session: AsyncSession, client: str, operation: str, key: str, now: dt.datetime
) -> None:
    """Make room for a key used again after its record expired (not yet purged)."""
    await session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.client == client,
            IdempotencyRecord.operation == operation,
            IdempotencyRecord.key == key,
            IdempotencyRecord.expires_at <= now,
        )
    )


async def save_response(
    session: AsyncSession,
    client: str,
    operation: str,
    key: str,
    *,
    status_code: int,
    content_type: str,
    body: bytes,
) -> bool:
    """Keep the response of a record written with its effect; True when it was there."""
    result = await session.execute(
        update(IdempotencyRecord)
        .where(
            IdempotencyRecord.client == client,
            IdempotencyRecord.operation == operation,
            IdempotencyRecord.key == key,
        )
        .values(status_code=status_code, content_type=content_type, response=body)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount == 1


async def purge_expired(session: AsyncSession, now: dt.datetime) -> int:
    """Delete the records past their retention; how many went."""
    result = await session.execute(
        delete(IdempotencyRecord)
        .where(IdempotencyRecord.expires_at <= now)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount


async def keep(session: AsyncSession, record: IdempotencyRecord) -> bool:
    """Keep the record of a mutation that wrote nothing, with its response, in its own
    transaction; False when the key has a live record already (a twin request's)."""
    await drop_expired_key(session, record.client, record.operation, record.key, record.created_at)
    session.add(record)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        return False
    return True
