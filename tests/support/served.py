"""The hub served by uvicorn on a free loopback port, for clients that speak real HTTP
and WebSockets (the graphql-http audit, gql, Apollo Client in Node, Chromium), and Node
run as a subprocess beside it.

The server runs on the test session's own event loop, where the demo stores' engines
live, so a client must leave that loop free: Node runs through ``asyncio``'s subprocess
API, a blocking Python client in ``asyncio.to_thread``.

``make node-deps`` and ``make browser`` (steps of ``make test``) install the npm
packages and Chromium. In CI (``CI=true``) a missing tool fails these tests; elsewhere
they skip and say why."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn


def unavailable(reason: str, remedy: str = "install Node.js and run `make node-deps`") -> None:
    """Skip, saying how to get what is missing; fail instead in CI, where it must run."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: these tests must run; {remedy})")
    pytest.skip(f"{reason}: {remedy}")


def require_node(package_dir: Path) -> str:
    """The ``node`` executable, once ``package_dir``'s npm packages are installed."""
    node = shutil.which("node")
    if node is None:
        unavailable("node is not installed")
        raise AssertionError  # unreachable: unavailable() skips or fails
    if not (package_dir / "node_modules").is_dir():
        unavailable(f"{package_dir.name}/node_modules is missing")
    return node


@dataclass
class NodeRun:
    returncode: int
    stdout: str
    stderr: str


async def run_node(
    node: str, script: Path, *args: str, timeout: float = 120, env: dict[str, str] | None = None
) -> NodeRun:
    """Run ``node script args…`` in the script's folder without blocking the loop."""
    process = await asyncio.create_subprocess_exec(
        node,
        str(script),
        *args,
        cwd=script.parent,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    try:
        async with asyncio.timeout(timeout):
            out, err = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return NodeRun(process.returncode, out.decode(), err.decode())


@contextlib.asynccontextmanager
async def served(app: Any, *, ws: str = "wsproto") -> AsyncIterator[str]:
    """The base URL of ``app`` served over real HTTP and WebSockets on loopback
    (``ws="none"``: HTTP only). Lifespan off: the session's app is shared, its broker
    and identity stay open."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan="off", ws=ws, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(20):
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("uvicorn stopped before it started")
                await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 15)
        sock.close()
