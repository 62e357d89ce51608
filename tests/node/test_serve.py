"""``govhub node serve`` as its own process on a free loopback port, called over HTTP
as the hub calls it: /health, an entity lookup with the hub's token, and 401 without
one."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from auth.hub_tokens import HubKey, HubTokenSigner
from gateway.settings import Settings
from resolvers.nodeclient import NodeClient
from tests.conftest import DEMO_NOW, TEST_SECRET


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def node_env(settings: Settings, key_file: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVHUB_")}
    env.update(
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
    port = free_port()
    govhub = Path(sys.executable).parent / "govhub"
    process = await asyncio.create_subprocess_exec(
        str(govhub),
        *("node", "serve", "--node", "county", "--host", "127.0.0.1", "--port", str(port)),
        cwd=tmp,
        env=node_env(settings, key_file),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=2) as probe, asyncio.timeout(60):
            while True:
                if process.returncode is not None:
                    output = await process.stdout.read() if process.stdout else b""
                    pytest.fail(f"govhub node serve stopped: {output.decode()}")
                with contextlib.suppress(httpx.TransportError):
                    if (await probe.get("/health")).status_code == 200:
                        break
                await asyncio.sleep(0.2)
        yield base
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                process.kill()
                await process.wait()


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
