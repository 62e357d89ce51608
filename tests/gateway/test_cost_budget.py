"""The cost budget is kept as counters: what a client has spent is a number per
window, however costly its operations were (a moving window kept one entry per unit of
cost: hundreds per request, hundreds of thousands per busy minute)."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import redis.asyncio as aioredis
from limits.aio.storage import MemoryStorage

from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.common.clock import FixedClock
from tests.support.hub import hub

# 1 + 20 × 3 = 61 per request
TOWNS = """
query Towns($first: Int) {
  divisions(level: TOWN, first: $first) { edges { node { name parent { name } } } }
}
"""


async def _entries(storage: Any, settings: Settings, address: str) -> int:
    """Entries the storage keeps for the client's cost budget."""
    if isinstance(storage, MemoryStorage):
        keys = [k for k in [*storage.events, *storage.storage] if f"cost/ip:{address}/" in k]
        return sum(len(storage.events.get(k, [])) or 1 for k in keys)
    redis = aioredis.from_url(str(settings.redis_url))
    try:
        total = 0
        async for key in redis.scan_iter(match=f"*cost/ip:{address}/*"):
            kind = (await redis.type(key)).decode()
            total += await redis.llen(key) if kind == "list" else 1
        return total
    finally:
        await redis.aclose()


async def test_the_budget_counts_in_counters_not_entries_per_unit(
    settings: Settings, nodes: NodeRegistry, clock: FixedClock
) -> None:
    address = f"10.251.{secrets.randbelow(256)}.{secrets.randbelow(256)}"
    async with (
        hub(settings, nodes, clock, cost_budget_per_minute=150) as app,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(address, 50000)),
            base_url="http://govhub.test",
        ) as http,
    ):
        for _ in range(2):
            response = await http.post(
                "/graphql", json={"query": TOWNS, "variables": {"first": 20}}
            )
            assert "errors" not in response.json()
        refused = await http.post("/graphql", json={"query": TOWNS, "variables": {"first": 20}})
        assert refused.status_code == 429
        entries = await _entries(app.state.identity.throttle.storage, settings, address)
    # 122 units spent: at most a counter per window, not 122 list entries
    assert 1 <= entries <= 2
