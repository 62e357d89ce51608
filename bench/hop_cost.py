"""CPU per call of one hub → node hop over loopback HTTP, each side alone
(``python -m bench.hop_cost``; SQLite, the demo city loaded into a temporary folder):

* ``client``: the hub's side — ``NodeClient.over_http`` asking a division by code and
  decoding its row (``resolvers.remote.divisions_by_code``) against a stub server in
  another process that answers every request with the node's own answer, captured
  first: the CPU of this process per call;
* ``node``: the node's side — ``govhub node serve`` (uvicorn, as deployed) asked the
  same ``_entities`` with the hub's token by a raw keep-alive socket that sends
  pre-built request bytes: the node process's CPU per call (from ``/proc``);
* ``node-asgi``: the node's ASGI app driven in this process without a server: what
  is the app's and what is uvicorn's.

``client-httpx`` is the client over httpx's own transport (as the hub's was) and
``node-asgi-executed`` the app with every call executed by GraphQL (no shortcut for
the hub's ``_entities``): the figures before.

``--profile client|node-asgi`` prints cProfile's top functions of that side instead.
Figures are CPU time, not wall-clock: other processes' load moves them less."""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import orjson

from auth.hub_tokens import HubKey, HubTokenSigner
from bench.backends import bench_settings, open_stores
from bench.serve import ServerProcess, free_port
from bench.speed import settings_env
from gateway.node_app import create_node_app
from gateway.settings import Settings
from resolvers.nodeclient import NodeClient
from resolvers.remote import divisions_by_code

NODE = "county"
CODE = "140702000000"
GOVHUB = Path(sys.executable).parent / "govhub"
# the stub: every request read to its end and answered with the bytes in argv[2]
STUB = """
import asyncio, sys
answer = bytes.fromhex(sys.argv[2])
head = b"HTTP/1.1 200 OK\\r\\ncontent-type: application/json\\r\\ncontent-length: %d\\r\\n\\r\\n"
reply = head % len(answer) + answer
async def serve(reader, writer):
    try:
        await exchange(reader, writer)
    except asyncio.IncompleteReadError:  # the client is done
        writer.close()
async def exchange(reader, writer):
    while True:
        lines = await reader.readuntil(b"\\r\\n\\r\\n")
        length = 0
        for line in lines.split(b"\\r\\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        await reader.readexactly(length)
        writer.write(reply)
async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", int(sys.argv[1]))
    async with server:
        await server.serve_forever()
asyncio.run(main())
"""


def _cpu_of(pid: int) -> float:
    """A process's user + system CPU seconds so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _per_call(cpu: float, calls: int) -> float:
    return cpu / calls * 1e6


async def _timed(call: Callable[[], Awaitable[Any]], calls: int) -> float:
    """This process's CPU µs per call of ``call``, after a warm-up."""
    for _ in range(200):
        await call()
    started = time.process_time()
    for _ in range(calls):
        await call()
    return _per_call(time.process_time() - started, calls)


def _request(path: str, body: bytes, token: str) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
        f"authorization: Bearer {token}\r\ncontent-length: {len(body)}\r\n\r\n"
    ).encode() + body


async def _raw_calls(port: int, request: bytes, calls: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for _ in range(calls):
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
    finally:
        writer.close()


def _entities_body() -> bytes:
    return orjson.dumps(
        {
            "query": (
                "query Entities($representations: [_Any!]!) { _entities(representations: "
                "$representations) { ... on Division { columns } } }"
            ),
            "variables": {"representations": [{"__typename": "Division", "code": CODE}]},
        }
    )


async def _answer(settings: Settings, key: HubKey) -> bytes:
    """The node's answer to the hub's division call, as the stub will send it."""
    app = create_node_app(settings, NODE, hub_keys=key.jwks())
    client = NodeClient.in_process(NODE, app, signer=HubTokenSigner(key))
    try:
        response = await client._send("POST", "/graphql", orjson.loads(_entities_body()))
        return response.content
    finally:
        await client.close()
        await app.state.dispose()


async def client_side(
    key: HubKey, answer: bytes, calls: int, profile: bool, *, httpx_client: bool = False
) -> None:
    port = free_port()
    stub = subprocess.Popen([sys.executable, "-c", STUB, str(port), answer.hex()])  # noqa: ASYNC220
    try:
        await asyncio.sleep(0.5)
        address = f"http://127.0.0.1:{port}"
        signer = HubTokenSigner(key)
        if httpx_client:  # the client as it was: httpx's AsyncClient over its own transport
            transport = httpx.AsyncHTTPTransport()
            client = NodeClient(NODE, signer=signer, base_url=address, transport=transport)
        else:
            client = NodeClient.over_http(NODE, address, signer=signer)

        async def call() -> None:
            found = await divisions_by_code(client, [CODE])
            assert found and found[0].code == CODE

        async with client:
            if profile:
                await _profiled(call, calls)
                return
            stub_before = _cpu_of(stub.pid)
            micro = await _timed(call, calls)
            stub_cpu = _per_call(_cpu_of(stub.pid) - stub_before, calls + 200)
        what = "client-httpx" if httpx_client else "client"
        print(f"{what}: {micro:.0f} µs CPU per call (the stub: {stub_cpu:.0f} µs)")
    finally:
        stub.terminate()
        stub.wait()


async def node_asgi(
    settings: Settings, key: HubKey, calls: int, profile: bool, *, executed: bool = False
) -> None:
    app = create_node_app(settings, NODE, hub_keys=key.jwks())
    if executed:  # every call executed by GraphQL, as before the entities' shortcut
        app.endpoint.shortcut = None  # type: ignore[attr-defined]
    token = HubTokenSigner(key).token(NODE)
    body = _entities_body()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    async def call() -> None:
        sent.clear()
        await app(dict(scope), receive, send)
        assert sent[0]["status"] == 200, sent

    try:
        if profile:
            await _profiled(call, calls)
            return
        micro = await _timed(call, calls)
        what = "node-asgi-executed" if executed else "node-asgi"
        print(f"{what}: {micro:.0f} µs CPU per call (the app without a server)")
    finally:
        await app.state.dispose()


async def node_served(settings: Settings, key_file: Path, key: HubKey, calls: int) -> None:
    port = free_port()
    env = settings_env(settings)
    env.update(
        GOVHUB_HUB_KEY_FILE=str(key_file),
        GOVHUB_NODE_TIMER_INTERVAL_SECONDS="0",
        GOVHUB_NODE_RELAY_INTERVAL_SECONDS="0",
    )
    argv = [str(GOVHUB), "node", "serve", "--node", NODE, "--port", str(port)]
    log = Path(settings.var_dir) / "node.log"
    with ServerProcess(
        argv, port=port, env=env, log=log, cwd=Path(settings.var_dir), ready_path="/health"
    ) as server:
        request = _request("/graphql", _entities_body(), HubTokenSigner(key).token(NODE))
        await _raw_calls(port, request, 300)
        before = _cpu_of(server.pid)
        started = time.process_time()
        await _raw_calls(port, request, calls)
        mine = _per_call(time.process_time() - started, calls)
        node = _per_call(_cpu_of(server.pid) - before, calls)
    print(f"node: {node:.0f} µs CPU per call (`govhub node serve`; the raw client: {mine:.0f} µs)")


async def _profiled(call: Callable[[], Awaitable[Any]], calls: int) -> None:
    for _ in range(200):
        await call()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        await call()
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(35)


async def main(sides: list[str], calls: int, profile: str | None) -> None:
    with tempfile.TemporaryDirectory(prefix="hop-cost-") as folder:
        settings = bench_settings(var_dir=Path(folder))
        nodes, line = await open_stores(settings)
        await nodes.dispose()
        print(line, flush=True)
        key = HubKey.generate()
        key_file = Path(folder) / "hub-key.pem"
        key_file.write_bytes(key.pem())
        if profile == "client":
            await client_side(key, await _answer(settings, key), calls, True)
            return
        if profile == "node-asgi":
            await node_asgi(settings, key, calls, True)
            return
        for side in sides:
            if side in ("client", "client-httpx"):
                answer = await _answer(settings, key)
                await client_side(key, answer, calls, False, httpx_client=side == "client-httpx")
            elif side in ("node-asgi", "node-asgi-executed"):
                await node_asgi(settings, key, calls, False, executed=side == "node-asgi-executed")
            elif side == "node":
                await node_served(settings, key_file, key, calls)
        print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sides", default="client-httpx,client,node-asgi-executed,node-asgi,node")
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--profile", choices=("client", "node-asgi"))
    args = parser.parse_args()
    asyncio.run(main(args.sides.split(","), args.calls, args.profile))
