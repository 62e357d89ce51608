"""The two backends the benchmark runs on: SQLite files under ``bench/out/sqlite`` with
the in-process stand-in for Redis, and fresh PostgreSQL databases
``govhub_bench_<store>`` (the prefix from ``GOVHUB_BENCH_PG_PREFIX``; created here,
dropped at the end) with Redis, as deployed."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import redis.asyncio as aioredis
from pydantic import SecretStr

from gateway.demo import load_demo
from gateway.nodes import NodeRegistry
from gateway.settings import Mode, Settings
from levels.common import migrate
from levels.common.clock import CHINA

OUT = Path(__file__).resolve().parent / "out"
STORES = ("city", "county", "town", "village", "identity")
# the demo's present (as in the tests): delegations effective 2026-01-01 are in force
DEMO_NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=CHINA)
# an admin connection to the PostgreSQL server (any existing database will do)
PG_ADMIN = os.environ.get("GOVHUB_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
# the session denylist and login throttle of the PostgreSQL run (the tests use db 15);
# the run writes no key there unless a login fails, and its keys expire by themselves
REDIS = os.environ.get("GOVHUB_BENCH_REDIS", "redis://127.0.0.1:6379/14")
# the databases' names start with this (two runs side by side need two prefixes)
PG_PREFIX = os.environ.get("GOVHUB_BENCH_PG_PREFIX", "govhub_bench")


def bench_settings(*, redis_url: str | None = None, **urls: str | Path) -> Settings:
    """Production mode (as deployed) with a secret of its own, a frozen clock, nothing
    read from ``.env``; Redis only when given (not from ``REDIS_URL``). No relay in the
    hub: the referral section times the relay passes it calls itself, and nothing else
    may move its messages meanwhile (no scenario of the table writes any)."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        mode=Mode.PROD,
        secret_key=SecretStr(secrets.token_urlsafe(32)),
        redis_url=redis_url,
        clock_override=DEMO_NOW,
        relay_interval_seconds=0,
        sql_echo=False,
        # one client sends thousands of requests a minute: counted, never refused
        requests_per_minute=10_000_000,
        requests_per_minute_per_ip=10_000_000,
        cost_budget_per_minute=1_000_000_000,
        **urls,  # type: ignore[arg-type]
    )


async def open_stores(settings: Settings) -> tuple[NodeRegistry, str]:
    """Migrate the five stores and load the demo city; return the registry and a line
    saying what was loaded."""
    started = time.perf_counter()
    nodes = NodeRegistry.from_settings(settings)
    try:
        for node in nodes:
            await migrate.upgrade(node.engine, "levels")
        await migrate.upgrade(nodes.identity.engine, "identity")
        counts = await load_demo(nodes, secret=settings.identity_secret())
    except BaseException:
        await nodes.dispose()
        raise
    summary = ", ".join(f"{k} {v}" for k, v in counts.items())
    return nodes, f"migrated and loaded in {time.perf_counter() - started:.1f}s ({summary})"


@dataclass
class SQLiteBackend:
    name: str = "sqlite"
    folder: Path = OUT / "sqlite"

    async def unavailable(self) -> str | None:
        return None

    async def settings(self) -> Settings:
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        return bench_settings(var_dir=self.folder)

    async def cleanup(self) -> None:
        """The files stay under bench/out/sqlite for inspection; the next run replaces them."""


def _async_url(admin: str, database: str) -> str:
    base, _, _ = admin.rpartition("/")
    return f"{base.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{database}"


@dataclass
class PostgresBackend:
    name: str = "postgresql"
    admin_url: str = PG_ADMIN
    redis_url: str = REDIS
    created: list[str] = field(default_factory=list)

    async def _admin(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.admin_url, timeout=5)

    async def unavailable(self) -> str | None:
        try:
            conn = await self._admin()
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            return f"PostgreSQL at {self.admin_url} not reachable ({exc!r})"
        await conn.close()
        client = aioredis.from_url(self.redis_url, socket_connect_timeout=5)
        try:
            await client.ping()
        except (OSError, aioredis.RedisError) as exc:
            return f"Redis at {self.redis_url} not reachable ({exc!r})"
        finally:
            await client.aclose()
        return None

    async def settings(self) -> Settings:
        urls = await self.databases({f"{store}_db_url": store for store in STORES})
        return bench_settings(var_dir=OUT, redis_url=self.redis_url, **urls)

    async def databases(self, names: dict[str, str]) -> dict[str, str]:
        """A fresh database ``<prefix>_<name>`` for each key (dropped by ``cleanup``);
        each key's async URL."""
        urls: dict[str, str] = {}
        conn = await self._admin()
        try:
            for key, name in names.items():
                database = f"{PG_PREFIX}_{name}"
                await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
                await conn.execute(f'CREATE DATABASE "{database}"')
                self.created.append(database)
                urls[key] = _async_url(self.admin_url, database)
        finally:
            await conn.close()
        return urls

    async def cleanup(self) -> None:
        if not self.created:
            return
        conn = await self._admin()
        try:
            while self.created:
                database = self.created.pop()
                await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            await conn.close()


Backend = SQLiteBackend | PostgresBackend


def backends() -> list[Backend]:
    return [SQLiteBackend(), PostgresBackend()]
