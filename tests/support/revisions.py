"""A store at one migration revision, for the tests of a migration: a SQLite file, or a
PostgreSQL database of its own (dropped after)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from alembic import command
from levels.common import migrate
from levels.common.store import create_store_engine
from tests.conftest import BACKEND
from tests.support import pg


def alembic(connection: Connection, step: str, revision: str) -> None:
    """``alembic <step> <revision>`` of the level stores' migrations, on ``connection``
    (run it with ``connection.run_sync``)."""
    cfg = migrate.alembic_config("levels")
    cfg.attributes["connection"] = connection
    getattr(command, step)(cfg, revision)


@asynccontextmanager
async def store_at(tmp_path: Path, tag: str, revision: str) -> AsyncIterator[AsyncEngine]:
    """A new store migrated to ``revision``."""
    name = f"{pg.PREFIX}_{tag}_{uuid.uuid4().hex[:8]}"
    if BACKEND == "postgres":
        await pg.create_database(name)
        url = pg.async_url(name)
    else:
        url = f"sqlite+aiosqlite:///{tmp_path}/store.sqlite3"
    engine = create_store_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(alembic, "upgrade", revision)
    yield engine
    await engine.dispose()
    if BACKEND == "postgres":
        await pg.drop_database(name)
