"""Level stores: SQLite files are durable (WAL, synchronous=FULL); the schema comes
from Alembic and matches the models."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, text

from gateway.nodes import NodeRegistry
from levels.common import migrate
from levels.common.store import create_store_engine
from levels.models import metadata


async def test_sqlite_stores_use_wal_and_full_sync(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite+aiosqlite:///{tmp_path}/deep/er/town.sqlite3")
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA synchronous"))).scalar() == 2  # FULL
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    finally:
        await engine.dispose()
    assert (tmp_path / "deep" / "er" / "town.sqlite3").exists()


def _diff(conn: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(conn), metadata))


async def test_migrations_build_exactly_the_models(nodes: NodeRegistry) -> None:
    for node in nodes:
        assert await migrate.is_current(node.engine, "levels")
        async with node.engine.connect() as conn:
            assert await conn.run_sync(_diff) == [], node.name
    assert await migrate.is_current(nodes.identity.engine, "identity")
