"""``govhub node serve`` as its own process on a free loopback port, called over HTTP
as the hub calls it: /health, an entity lookup with the hub's token, and 401 without
one."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from auth.hub_tokens import HubKey, HubTokenSigner
from gateway.settings import Settings
from resolvers.nodeclient import NodeClient
from tests.conftest import DEMO_NOW, TEST_SECRET
from tests.support.node_process import free_port, govhub_env, serve_node


def node_env(settings: Settings, key_file: Path) -> dict[str, str]:
    env = govhub_env(
        GOVHUB_VAR_DIR=str(settings.var_dir),
        GOVHUB_HUB_KEY_FILE=str(key_file),
        GOVHUB_SECRET_KEY=TEST_SECRET,
        GOVHUB_CLOCK_OVERRIDE=DEMO_NOW.isoformat(),
    )
    for store in ("city", "county", "town", "village", "identity"):
        url = getattr(settings, f"{store}_db_url")
        if url:
            env[f"GOVHUB_{store.upper()}_DB_URL"] = url
    return env


@contextlib.asynccontextmanager
async def serving(settings: Settings, hub_key: HubKey, tmp: Path) -> AsyncIterator[str]:
    key_file = tmp / "hub-key.pem"
    key_file.write_bytes(hub_key.pem())
    node = await serve_node("county", node_env(settings, key_file), tmp)
    try:
        yield node.base
    finally:
        await node.stop()


async def test_govhub_node_serve_answers_the_hub_over_http(
    settings: Settings, hub_key: HubKey, signer: HubTokenSigner, tmp_path: Path
) -> None:
    async with serving(settings, hub_key, tmp_path) as base:
        async with NodeClient.over_http("county", base, signer=signer) as client:
            health = await client.health()
            assert health["status"] == "ok" and health["node"] == "county"
            found = await client.entities(
                "Division", [{"code": "140702000000"}, {"code": "140799000000"}], ["code", "name"]
            )
            assert found == [{"code": "140702000000", "name": "榆次区"}, None]
        async with httpx.AsyncClient(base_url=base) as anonymous:
            refused = await anonymous.post("/graphql", json={"query": "{ about { id } }"})
        assert refused.status_code == 401


async def test_a_node_that_does_not_answer_is_unavailable(signer: HubTokenSigner) -> None:
    port = free_port()  # nothing listens there
    async with NodeClient.over_http("county", f"http://127.0.0.1:{port}", signer=signer) as client:
        with pytest.raises(Exception) as failed:
            await client.health()
    from levels.common.errors import DomainError, ErrorCode

    assert isinstance(failed.value, DomainError)
    assert failed.value.code is ErrorCode.NODE_UNAVAILABLE
