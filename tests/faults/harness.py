"""Nodes on hosts of their own, and the faults between them.

The hub (this process, in the root namespace) serves the JWKS of nodes; a NATS server
(JetStream, its store in the run's folder) and each node's message worker
(``govhub relay --node <id>``) run in a network namespace of their own
(``tests/faults/netns.py``). The nodes' stores are SQLite files of the run's folder: the
filesystem is the one thing the hosts share, and a node's worker opens its own file
alone (``--node``); the hub opens them all, as it reads every node. PostgreSQL would
need a forwarder into each namespace and adds nothing to what is tested here — the
network between the workers and NATS.

The node map is the demo city with 修文镇 handed to a node of its own (the mixed
topology): 榆次区's node sends its licences' changes to the city's library and its
delegations to 修文镇's node, 修文镇's node refers cases up to 榆次区's — every message
crosses hosts. 太谷区's node (a second county host) sends its licences' changes to
the city's library too (``tests/faults/taigu.py``)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nats
import uvicorn
from pydantic import SecretStr
from sqlalchemy import select
from starlette.applications import Starlette

from gateway.demo import load_demo
from gateway.messaging import keys as node_keys_route
from gateway.nodes import NodeRegistry, build_registry
from gateway.settings import Settings
from levels.common import migrate
from levels.outbox.signing import NodeSigner
from tests.faults.netns import Lab

NATS_SERVER = "/usr/sbin/nats-server"
CITY, COUNTY, TOWN = "jinzhong", "county-140702", "town-140702101"
TAIGU = "county-140703"  # 太谷区: the second county node
HOSTS = (CITY, COUNTY, TAIGU, TOWN)
NODE_MAP = f"""
[[nodes]]
id = "{CITY}"
prefixes = ["1407"]

[[nodes]]
id = "{COUNTY}"
prefixes = ["140702"]

[[nodes]]
id = "{TAIGU}"
prefixes = ["140703"]

[[nodes]]
id = "{TOWN}"
prefixes = ["140702101"]
"""
SECRET = "faults-" + "s" * 32
NATS_PORT = 4222
JWKS_PORT = 8999
# how long a step may take on a loaded machine before the run says it hangs
PATIENCE = 60.0


def missing() -> str | None:
    """Why the harness cannot run here (None: it can)."""
    from tests.faults.netns import missing as no_hosts

    if reason := no_hosts():
        return reason
    if not Path(NATS_SERVER).exists():
        return f"no NATS server at {NATS_SERVER}"
    return None


@dataclass
class Figures:
    rounds: int = 0
    messages: int = 0
    kinds: Counter[str] = field(default_factory=Counter)  # messages by topic
    faults: Counter[str] = field(default_factory=Counter)
    lost: int = 0
    doubled: int = 0
    out_of_order: int = 0
    broken_chains: int = 0
    # what went wrong, message by message
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        faults = ", ".join(f"{n} {k}" for k, n in sorted(self.faults.items()))
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(self.kinds.items()))
        return (
            f"rounds {self.rounds}, messages {self.messages} ({kinds}), "
            f"faults injected {sum(self.faults.values())} ({faults}), lost {self.lost}, "
            f"doubled {self.doubled}, out of order {self.out_of_order}, "
            f"broken audit chains {self.broken_chains}"
        )


def _state(pid: int) -> str:
    """A process's state letter (T: stopped), '' once it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


class Cluster:
    """The hosts, their stores and processes, for one run under ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.lab = Lab()
        self.tag = self.lab.tag
        self.workers: dict[str, subprocess.Popen[bytes]] = {}
        self.nats: subprocess.Popen[bytes] | None = None
        self.nodes: NodeRegistry | None = None
        self.settings: Settings | None = None
        self._jwks: uvicorn.Server | None = None
        self._jwks_task: asyncio.Task[None] | None = None
        self._nc: Any = None

    def now(self) -> dt.datetime:
        """The time the workers go by (the real clock: they resend by it)."""
        return dt.datetime.now(dt.UTC)

    # --- start ------------------------------------------------------------------------

    async def start(self) -> None:
        (self.folder / "nodes.toml").write_text(NODE_MAP, encoding="utf-8")
        self.settings = Settings(
            var_dir=self.folder,
            nodes=str(self.folder / "nodes.toml"),
            secret_key=SecretStr(SECRET),
            message_transport="nats",
        )
        self.nodes = build_registry(self.settings)
        for node in self.nodes:
            await migrate.upgrade(node.engine, "levels")
        await migrate.upgrade(self.nodes.identity.engine, "identity")
        await load_demo(self.nodes, secret=self.settings.identity_secret())
        # every node's message key made before its first message: a key a receiver has
        # not seen in the JWKS yet is refused for good (docs/notes/faults.md)
        signer = NodeSigner(SECRET.encode())
        for node in self.nodes:
            async with node.sessions.begin() as session:
                await signer.sign(session, node.name, {"typ": "key"}, self.now())
        self.hub = self.lab.open()
        for host in ("nats", *HOSTS):
            self.lab.add_host(host)
        await self._serve_jwks()
        self.start_nats()
        for node in HOSTS:
            self.start_worker(node)

    async def _serve_jwks(self) -> None:
        """The hub's JWKS of nodes, where the workers read each other's keys."""
        assert self.nodes is not None
        app = Starlette(routes=node_keys_route.routes(self.nodes))
        config = uvicorn.Config(app, host=self.hub, port=JWKS_PORT, log_level="warning")
        self._jwks = uvicorn.Server(config)
        self._jwks_task = asyncio.create_task(self._jwks.serve())
        for _ in range(100):
            if self._jwks.started:
                return
            await asyncio.sleep(0.05)
        raise RuntimeError("the hub's JWKS server did not start")

    @property
    def nats_url(self) -> str:
        return f"nats://{self.lab.hosts['nats']}:{NATS_PORT}"

    @property
    def prefix(self) -> str:
        return f"faults{self.tag}"

    def start_nats(self) -> None:
        log = (self.folder / "nats.log").open("ab")
        self.nats = subprocess.Popen(
            [
                *self.lab.run_in("nats"),
                NATS_SERVER,
                "-js",
                "-sd",
                str(self.folder / "jetstream"),
                "-a",
                "0.0.0.0",
                "-p",
                str(NATS_PORT),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def worker_env(self, halt_at: str | None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GOVHUB_")}
        env.update(
            PYTHONPATH=str(Path(__file__).resolve().parents[2]),
            GOVHUB_NODES=str(self.folder / "nodes.toml"),
            GOVHUB_VAR_DIR=str(self.folder),
            GOVHUB_SECRET_KEY=SECRET,
            GOVHUB_MESSAGE_TRANSPORT="nats",
            GOVHUB_NATS_URL=self.nats_url,
            GOVHUB_NATS_STREAM=f"faults_{self.tag}",
            GOVHUB_NATS_SUBJECT_PREFIX=self.prefix,
            GOVHUB_NODE_KEYS_URL=f"http://{self.hub}:{JWKS_PORT}/.well-known/node-keys.json",
            GOVHUB_RELAY_INTERVAL_SECONDS="0.2",
            GOVHUB_MESSAGE_ACK_WAIT_SECONDS="2",
            GOVHUB_MESSAGE_NAK_DELAY_SECONDS="0.2",
            GOVHUB_MESSAGE_RESEND_SECONDS="10",
            # early deliveries wait on their predecessor many times while links are cut
            GOVHUB_MESSAGE_MAX_DELIVERIES="10000",
        )
        if halt_at:
            env["GOVHUB_MESSAGE_HALT_AT"] = halt_at
        return env

    def start_worker(self, node: str, halt_at: str | None = None) -> None:
        govhub = str(Path(sys.executable).with_name("govhub"))
        log = (self.folder / f"worker-{node}.log").open("ab")
        self.workers[node] = subprocess.Popen(
            [*self.lab.run_in(node), govhub, "relay", "--node", node],
            env=self.worker_env(halt_at),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    # --- faults -----------------------------------------------------------------------

    def kill_worker(self, node: str) -> None:
        process = self.workers.pop(node)
        process.send_signal(signal.SIGKILL)
        process.wait(30)

    async def halted(self, node: str, patience: float = PATIENCE) -> bool:
        """Whether ``node``'s worker stopped itself at its halt step within ``patience``."""
        pid = self.workers[node].pid
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            if _state(pid) == "T":
                return True
            if self.workers[node].poll() is not None:
                raise RuntimeError(f"the worker of {node} ended: {self.tail(node)}")
            await asyncio.sleep(0.05)
        return False

    def reaches_nats(self, host: str) -> bool:
        return self.lab.reaches(host, self.lab.hosts["nats"], NATS_PORT)

    async def restart_nats(self, how: signal.Signals) -> None:
        """Stop the NATS server (SIGTERM as an operator would, or SIGKILL) and start it
        again on its store."""
        assert self.nats is not None
        if self._nc is not None:  # ours goes first: it would only complain of the EOF
            await self._nc.close()
            self._nc = None
        self.nats.send_signal(how)
        self.nats.wait(30)
        self.start_nats()

    async def publish(self, node: str, msg_id: str, data: bytes) -> None:
        """Publish as a worker would (to ``node``'s subject), with an id of our own."""
        if self._nc is None or self._nc.is_closed:
            self._nc = await nats.connect(self.nats_url, connect_timeout=5)
        js = self._nc.jetstream()
        await js.publish(
            f"{self.prefix}.msg.{node}",
            data,
            stream=f"faults_{self.tag}",
            headers={"Nats-Msg-Id": msg_id},
            timeout=10,
        )

    def tail(self, node: str) -> str:
        path = self.folder / f"worker-{node}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    # --- stop -------------------------------------------------------------------------

    async def close(self) -> None:
        """Everything ended and removed, whatever state a round left it in."""
        for process in [*self.workers.values(), *([self.nats] if self.nats else [])]:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(30)
        self.workers.clear()
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.close()
        if self._jwks is not None and self._jwks_task is not None:
            self._jwks.should_exit = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._jwks_task, 10)
        self.lab.close()
        if self.nodes is not None:
            await self.nodes.dispose()
        shutil.rmtree(self.folder / "jetstream", ignore_errors=True)


async def wait_until(check: Any, what: str, patience: float = PATIENCE) -> None:
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what}: not within {patience:.0f} s")


async def rows_of(nodes: NodeRegistry, node: str, model: Any, *where: Any) -> list[Any]:
    async with nodes[node].sessions() as session:
        return list((await session.scalars(select(model).where(*where))).all())
