"""A GraphQL request asks the shared store once: the per-address limit, the denylist,
the per-client limit and the cost budget in one Redis round trip, in that order, and
nothing counted after the first refusal — on Redis and in the in-process stand-in."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, Storage
from redis.asyncio.connection import AbstractConnection

from auth.kv import KeyValue, MemoryKeyValue, key_value_for, rate_limit_storage
from gateway.admission import Budget, Checker, Revoked, Window
from gateway.nodes import NodeRegistry
from gateway.script_call import ScriptCall
from gateway.settings import Settings
from levels.common.clock import FixedClock
from tests.auth.conftest import bearer, signed_in
from tests.conftest import GraphQLClient
from tests.support.hub import hub

TOWNS = """
query Towns($first: Int) {
  divisions(level: TOWN, first: $first) { edges { node { name } } }
}
"""


@pytest.fixture
def round_trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Commands (or pipelines) sent to Redis by any client while the test runs."""
    sent = [0]
    original = AbstractConnection.send_packed_command
    own = ScriptCall.send

    async def counting(self: AbstractConnection, *args: Any, **kwargs: Any) -> None:
        sent[0] += 1
        await original(self, *args, **kwargs)

    def counting_own(self: ScriptCall, *args: Any) -> None:
        sent[0] += 1
        own(self, *args)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    # the admission's own call (gateway/script_call.py)
    monkeypatch.setattr(ScriptCall, "send", counting_own)
    yield sent


def _client(app: Any, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(address, 50000)),
        base_url="http://govhub.test",
    )


def _address() -> str:
    return f"10.252.{secrets.randbelow(256)}.{secrets.randbelow(256)}"


async def test_a_signed_in_graphql_request_asks_redis_once(
    settings: Settings, nodes: NodeRegistry, clock: FixedClock, round_trips: list[int]
) -> None:
    if not settings.redis_url:
        pytest.skip("the in-process stand-in makes no round trip")
    async with hub(settings, nodes, clock) as app, _client(app, _address()) as http:
        token = (await signed_in(GraphQLClient(http), "resident1"))["accessToken"]
        body = {"query": TOWNS, "variables": {"first": 5}}
        # the first one loads the script into Redis if it is not there yet
        assert (
            "errors" not in (await http.post("/graphql", json=body, headers=bearer(token))).json()
        )
        for _ in range(3):
            before = round_trips[0]
            response = await http.post("/graphql", json=body, headers=bearer(token))
            assert response.status_code == 200 and "errors" not in response.json()
            # address, denylist, client and cost budget: one EVALSHA
            assert round_trips[0] - before == 1


def _storages(settings: Settings) -> list[tuple[Storage, KeyValue, str]]:
    found: list[tuple[Storage, KeyValue, str]] = [(MemoryStorage(), MemoryKeyValue(), "")]
    if settings.redis_url:
        found.append(
            (rate_limit_storage(settings), key_value_for(settings), settings.redis_namespace)
        )
    return found


async def test_checks_run_in_order_and_stop_at_the_first_refusal(settings: Settings) -> None:
    for storage, kv, prefix in _storages(settings):
        checker = Checker(storage, kv, prefix)
        run = secrets.token_hex(4)
        address = Window(RateLimitItemPerMinute(2), "requests-ip", f"test-{run}")
        client = Window(RateLimitItemPerMinute(10), "requests-client", f"test-{run}")
        budget = RateLimitItemPerMinute(100)
        for _ in range(2):
            assert await checker.run([address, client, Budget(budget, run, 30)]) is None
        refusal = await checker.run([address, client, Budget(budget, run, 30)])
        assert refusal is not None and refusal.check == address
        assert 1 <= refusal.retry_after <= 61
        # nothing after the address was counted: the client has 8 of 10 left, the budget
        # 40 of 100
        for _ in range(8):
            assert await checker.run([client]) is None
        assert (await checker.run([client])) is not None
        assert await checker.run([Budget(budget, run, 40)]) is None
        over = await checker.run([Budget(budget, run, 1)])
        assert over is not None and isinstance(over.check, Budget)
        # a revoked session refuses before the client's window is counted
        session = f"s-{run}"
        await kv.set(f"revoked-session:{session}", "1", 60)
        fresh = Window(RateLimitItemPerMinute(1), "requests-client", f"fresh-{run}")
        refused = await checker.run([Revoked(session), fresh])
        assert refused is not None and refused.check == Revoked(session)
        assert await checker.run([fresh]) is None
        await kv.close()


async def test_a_revoked_session_is_refused_when_its_checks_are_sent(
    settings: Settings, nodes: NodeRegistry, clock: FixedClock
) -> None:
    async with hub(settings, nodes, clock) as app, _client(app, _address()) as http:
        gql = GraphQLClient(http)
        token = (await signed_in(gql, "resident1"))["accessToken"]
        body = {"query": "{ me { __typename } }"}
        assert (await http.post("/graphql", json=body, headers=bearer(token))).status_code == 200
        logout = await http.post(
            "/graphql", json={"query": "mutation { logout { revoked } }"}, headers=bearer(token)
        )
        assert logout.status_code == 200
        refused = await http.post("/graphql", json=body, headers=bearer(token))
        assert refused.status_code == 401
        assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        # a document that does not even parse is refused as revoked, not as malformed
        broken = await http.post("/graphql", json={"query": "{"}, headers=bearer(token))
        assert broken.status_code == 401


async def test_a_request_error_still_counts_against_the_address(
    settings: Settings, nodes: NodeRegistry, clock: FixedClock
) -> None:
    async with (
        hub(settings, nodes, clock, requests_per_minute_per_ip=2) as app,
        _client(app, _address()) as http,
    ):
        for _ in range(2):
            assert (await http.post("/graphql", json={"query": "{"})).status_code == 200
        limited = await http.post("/graphql", json={"query": "{ __typename }"})
        assert limited.status_code == 429
        assert limited.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
