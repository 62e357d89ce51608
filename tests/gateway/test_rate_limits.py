"""Requests per minute per client and per address: 429 with Retry-After and a typed
body once over, health and metrics exempt, X-Forwarded-For believed only from a
trusted proxy."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.common.clock import FixedClock
from tests.auth.conftest import bearer, signed_in
from tests.conftest import GraphQLClient
from tests.support.hub import client, hub

QUERY = {"query": "{ __typename }"}


@pytest.fixture
def env(settings: Settings, nodes: NodeRegistry, clock: FixedClock) -> Any:
    def make(**changes: Any) -> Any:
        return hub(settings, nodes, clock, **changes)

    return make


def assert_limited(response: httpx.Response) -> None:
    assert response.status_code == 429
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 61
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": retry_after}


async def test_per_client(env: Any) -> None:
    async with env(requests_per_minute=3) as app, client(app) as http:
        for _ in range(3):
            assert (await http.post("/graphql", json=QUERY)).status_code == 200
        assert_limited(await http.post("/graphql", json=QUERY))
        # health and metrics are never limited
        assert (await http.get("/health/live")).status_code == 200
        assert (await http.get("/metrics")).status_code == 200


async def test_a_signed_in_client_counts_as_its_account(env: Any) -> None:
    async with env(requests_per_minute=3) as app, client(app) as http:
        # signing in spends one of the address's three
        token = (await signed_in(GraphQLClient(http), "resident1"))["accessToken"]
        for _ in range(3):
            assert (
                await http.post("/graphql", json=QUERY, headers=bearer(token))
            ).status_code == 200
        assert_limited(await http.post("/graphql", json=QUERY, headers=bearer(token)))
        # the same address without the token still has two of its own
        assert (await http.post("/graphql", json=QUERY)).status_code == 200
    # the account is limited from any address
    async with client(app) as elsewhere:
        assert_limited(await elsewhere.post("/graphql", json=QUERY, headers=bearer(token)))


async def test_per_address(env: Any) -> None:
    async with env(requests_per_minute_per_ip=3) as app, client(app) as http:
        for _ in range(3):
            assert (await http.get("/.well-known/jwks.json")).status_code == 200
        assert_limited(await http.post("/graphql", json=QUERY))
        assert_limited(await http.get("/.well-known/jwks.json"))
        assert (await http.get("/health/ready")).status_code in (200, 503)
        async with client(app) as other:
            assert (await other.post("/graphql", json=QUERY)).status_code == 200


async def test_forwarded_for_only_from_a_trusted_proxy(env: Any) -> None:
    forwarded = {"x-forwarded-for": "203.0.113.7"}
    spoofed = {"x-forwarded-for": "198.51.100.9"}
    # the test clients come from 10.x.y.z: a load balancer's network
    trusted = env(requests_per_minute_per_ip=2, trusted_proxies="10.0.0.0/8")
    async with trusted as app, client(app) as proxy:
        for _ in range(2):
            assert (await proxy.post("/graphql", json=QUERY, headers=forwarded)).status_code == 200
        assert_limited(await proxy.post("/graphql", json=QUERY, headers=forwarded))
        # another client behind the same proxy has its own window
        assert (await proxy.post("/graphql", json=QUERY, headers=spoofed)).status_code == 200
    async with env(requests_per_minute_per_ip=2) as app, client(app) as direct:
        # no trusted proxy: a client cannot dodge its limit by inventing addresses
        for header in (forwarded, spoofed):
            assert (await direct.post("/graphql", json=QUERY, headers=header)).status_code == 200
        assert_limited(
            await direct.post("/graphql", json=QUERY, headers={"x-forwarded-for": "192.0.2.1"})
        )
