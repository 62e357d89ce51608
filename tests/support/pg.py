"""PostgreSQL and Redis for the second pass of ``make test``."""

from __future__ import annotations

import os

import asyncpg
import pytest
import redis.asyncio as aioredis

PG = os.environ.get("GOVHUB_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("GOVHUB_TEST_REDIS", "redis://127.0.0.1:6379/15")
# the names of the databases a run creates start with this (two runs on one server
# side by side each give their own)
PREFIX = os.environ.get("GOVHUB_TEST_PG_PREFIX", "govhub_test")


def async_url(database: str) -> str:
    base, _, _ = PG.rpartition("/")
    return f"{base.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{database}"


def redis_url() -> str:
    return REDIS


async def _admin() -> asyncpg.Connection:
    return await asyncpg.connect(PG)


async def require_services() -> None:
    """Fail the run when PostgreSQL or Redis is not there: this pass was asked for
    (``make test`` decides whether to run it and says so when it does not)."""
    problems = []
    try:
        conn = await _admin()
        await conn.close()
    except (OSError, asyncpg.PostgresError) as exc:
        problems.append(f"PostgreSQL at {PG}: {exc!r}")
    try:
        client = aioredis.from_url(REDIS)
        await client.ping()
        # the test database starts empty: no rate-limit window or denylist entry of
        # an earlier run reaches this one
        await client.flushdb()
        await client.aclose()
    except (OSError, aioredis.RedisError) as exc:
        problems.append(f"Redis at {REDIS}: {exc!r}")
    if problems:
        pytest.fail("the PostgreSQL pass needs its services: " + "; ".join(problems), pytrace=False)


async def create_database(name: str) -> None:
    conn = await _admin()
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def drop_database(name: str) -> None:
    conn = await _admin()
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
