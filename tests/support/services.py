"""Exit 0 when PostgreSQL and Redis answer on this machine (used by `make test`)."""

import asyncio
import sys

import asyncpg
import redis.asyncio as aioredis

from tests.support.pg import PG, REDIS


async def main() -> int:
    try:
        conn = await asyncpg.connect(PG, timeout=3)
        await conn.close()
        client = aioredis.from_url(REDIS, socket_connect_timeout=3)
        await client.ping()
        await client.aclose()
    except (OSError, asyncpg.PostgresError, aioredis.RedisError, TimeoutError):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
