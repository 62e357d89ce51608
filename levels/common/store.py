"""Stores — a database with its engine and session factory — and their engines: SQLite
(embedded default) or PostgreSQL (asyncpg). Used by the hub, the nodes and auth."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def read_json(text: str | bytes) -> Any:
    """A JSON column's value as the stores read it: by orjson (a page of 50 items has
    ~250 JSON values; the standard library took 3–4 times as long), by the standard
    library for what orjson refuses and it accepts (an integer beyond 64 bits, NaN)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


@dataclass(frozen=True)
class Store:
    """One database: its name (a node id, or ``identity``), URL, engine and sessions."""

    name: str
    url: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]


def create_store_engine(
    url: str, *, echo: bool = False, pool_size: int = 5, max_overflow: int = 5
) -> AsyncEngine:
    """Build the async engine of one store. SQLite files get WAL and synchronous=FULL,
    and their folder is created; PostgreSQL gets a modest pool per gateway process
    (``pool_size`` kept, ``max_overflow`` more under load) and no pre-ping: a
    connection the server dropped fails its statement, SQLAlchemy then replaces the
    pool's connections, and reads are tried once more (``resolvers/fanout.call_node``).
    asyncpg keeps up to 500 prepared statements per connection. JSON columns are read
    by ``read_json``."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url, echo=echo, connect_args={"timeout": 30}, json_deserializer=read_json
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=max_overflow,
        connect_args={"prepared_statement_cache_size": 500},
        json_deserializer=read_json,
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
