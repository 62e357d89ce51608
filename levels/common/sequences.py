"""Counters kept as rows: the next value is taken inside the caller's transaction,
and the row stays locked until it commits, so two transactions never get the same."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession


async def next_value(session: AsyncSession, model: Any, **key: Any) -> int:
    """Move the counter of ``model`` at ``key`` (its primary key columns) on by one
    and return it; a counter not yet there starts at 1. ``model`` has a ``last``
    column."""
    where = [getattr(model, name) == value for name, value in key.items()]
    for _ in range(3):
        bumped = await session.execute(
            update(model).where(*where).values(last=model.last + 1).returning(model.last)
        )
        last = bumped.scalar_one_or_none()
        if last is not None:
            return int(last)
        try:
            async with session.begin_nested():
                session.add(model(**key, last=1))
            return 1
        except IntegrityError:
            continue  # another transaction made the row first: bump it
    raise RuntimeError(f"could not move the counter {model.__name__} {key}")
