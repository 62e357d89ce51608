"""Claiming a row for one worker when several passes run at once.

A pass reads what is due, then acts on each row in its own transaction. On PostgreSQL
``SELECT … FOR UPDATE SKIP LOCKED`` keeps two workers off one row; SQLite has no row
locks, and its driver begins the write transaction only at the first write, so a read
can be stale by the time the pass acts. The claim is therefore a write whose outcome
says who won: a conditional UPDATE, or an INSERT that does nothing on conflict. Once
it has run, the transaction holds the store's write lock (SQLite) or the row (both),
so what it reads next is current."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from levels.common.models import LevelBase


async def claim(session: AsyncSession, update: Update) -> bool:
    """Run a conditional UPDATE; True when it changed exactly one row (this pass won)."""
    result = await session.execute(update.execution_options(synchronize_session=False))
    return cast(CursorResult[Any], result).rowcount == 1


async def insert_once(session: AsyncSession, model: type[LevelBase], **values: Any) -> bool:
    """INSERT a row unless a unique constraint already holds one like it; True when this
    call inserted it."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = await session.execute(insert(model).values(**values).on_conflict_do_nothing())
    return cast(CursorResult[Any], result).rowcount == 1
