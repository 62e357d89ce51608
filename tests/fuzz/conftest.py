"""The fuzzed hub: a demo city of its own (fuzzed mutations change it; no other test
reads it), generous request limits (a fuzz burst is not an attack), and a signed-in
token for every kind of viewer."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from gateway.app import create_app
from gateway.demo import load_demo
from gateway.settings import Settings
from levels.common.clock import FixedClock
from tests.auth.conftest import LOGIN
from tests.auth.test_clients import assertion, token_request
from tests.conftest import BACKEND, DEMO_NOW, client_transport, make_registry
from tests.support import pg

DEMO_PASSWORD = "govhub-demo-2026"
# every kind of viewer (gateway/demo/accounts.py): None is nobody signed in, client:
# a county system's machine token (private_key_jwt)
ROLES: list[str | None] = [
    None,
    "resident1",
    "firm1",
    "yuci.receptionist",
    "yuci.reviewer",
    "yuci.director",
    "yuci.output",
    "yuci.supervisor",
    "yuci.admin",
    "agent.140702101201.1",
    "jz.auditor",
    "client:yuci-system",
]
# a fuzz burst is not an attack: the rate limits stay out of its way
FUZZ_LIMITS = {"requests_per_minute": 1_000_000, "requests_per_minute_per_ip": 1_000_000}


@dataclass
class FuzzHub:
    app: Any
    settings: Settings

    def client(self) -> httpx.AsyncClient:
        """A client from an address of its own: fuzzed logins that fail and are
        throttled per address never keep another test from signing in."""
        return httpx.AsyncClient(
            transport=client_transport(self.app), base_url="http://govhub.test"
        )

    async def token_for(self, role: str | None) -> str | None:
        if role is None:
            return None
        async with self.client() as http:
            return await self._sign_in(http, role)

    async def _sign_in(self, http: httpx.AsyncClient, role: str) -> str:
        if role.startswith("client:"):
            response = await token_request(
                http, client_assertion=assertion(self.settings, role.removeprefix("client:"))
            )
            assert response.status_code == 200, response.text
            token: str = response.json()["access_token"]
            return token
        response = await http.post(
            "/graphql",
            json={
                "query": LOGIN,
                "variables": {"username": role, "password": DEMO_PASSWORD, "channel": "WEB"},
            },
        )
        payload = response.json()["data"]["login"]
        assert payload["errors"] == [], payload
        access: str = payload["accessToken"]
        return access


@pytest.fixture(scope="package")
async def fuzz_hub(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FuzzHub]:
    if BACKEND == "postgres":
        await pg.require_services()
    tag = "fuzz" + uuid.uuid4().hex[:6]
    settings, nodes, created = await make_registry(tmp_path_factory.mktemp("fuzz"), tag)
    await load_demo(nodes, secret=settings.identity_secret())
    settings = settings.model_copy(update=FUZZ_LIMITS)
    app = create_app(settings, nodes=nodes, clock=FixedClock(DEMO_NOW))
    yield FuzzHub(app, settings)
    await app.state.broker.close()
    await app.state.identity.close()
    await nodes.dispose()
    for name in created:
        await pg.drop_database(name)


def schema_app(tmp: Path) -> Any:
    """An app to introspect (schemathesis runs it in a loop of its own): embedded
    stores it never opens, no Redis, no lifespan (no workers, no denylist to warm)."""
    app = create_app(
        Settings(var_dir=tmp, secret_key=SecretStr("introspection-only"), redis_url=None)
    )

    async def without_lifespan(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            for phase in ("startup", "shutdown"):
                await receive()
                await send({"type": f"lifespan.{phase}.complete"})
            return
        await app(scope, receive, send)

    return without_lifespan
