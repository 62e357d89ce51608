"""``govhub node init`` and ``govhub node serve`` as processes of their own on free
loopback ports, as a county's machine room runs them: started, probed on ``/health``
until they answer, stopped."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

GOVHUB = Path(sys.executable).parent / "govhub"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def govhub_env(**settings: str) -> dict[str, str]:
    """This environment without its GOVHUB_* settings, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVHUB_")}
    env.update(settings)
    return env


def init_node(node_id: str, env: Mapping[str, str], cwd: Path) -> None:
    """``govhub node init``: the node's store migrated (fails the test if it fails)."""
    done = subprocess.run(
        [str(GOVHUB), "node", "init", "--node", node_id],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"govhub node init --node {node_id}: {done.stdout}{done.stderr}")


@dataclass
class NodeProcess:
    node_id: str
    base: str
    process: asyncio.subprocess.Process

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


async def serve_node(
    node_id: str, env: Mapping[str, str], cwd: Path, *, port: int | None = None
) -> NodeProcess:
    """``govhub node serve`` on ``port`` (a free one by default), once ``/health`` says
    ok; the test fails with the process's output if it stops first."""
    port = port or free_port()
    process = await asyncio.create_subprocess_exec(
        str(GOVHUB),
        *("node", "serve", "--node", node_id, "--host", "127.0.0.1", "--port", str(port)),
        cwd=cwd,
        env=dict(env),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    served = NodeProcess(node_id, f"http://127.0.0.1:{port}", process)
    try:
        async with httpx.AsyncClient(base_url=served.base, timeout=2) as probe:
            async with asyncio.timeout(60):
                while True:
                    if process.returncode is not None:
                        output = await process.stderr.read() if process.stderr else b""
                        pytest.fail(f"govhub node serve --node {node_id}: {output.decode()}")
                    with contextlib.suppress(httpx.TransportError):
                        if (await probe.get("/health")).status_code == 200:
                            return served
                    await asyncio.sleep(0.2)
    except BaseException:
        await served.stop()
        raise
