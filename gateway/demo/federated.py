"""``make run-federated``: the demo city as separate processes on loopback — the city
node (140700, the city level), one node per county of the demo (榆次区 140702, 太谷区
140703, …), each ``govhub node serve`` with a SQLite store of its own under
``<folder>/nodes/<id>/``, and the hub (``govhub serve``) whose node map gives their
``http://127.0.0.1:<port>`` addresses. The hub's reads of cases and divisions go to the
nodes' APIs; what still reads SQL reads the same files (docs/notes/federated.md).

Run as ``python -m gateway.demo.federated [folder] [first node port]`` (default
``var/federated`` and 8101; the hub on ``GOVHUB_PORT``, else 8000): it writes the map
and the hub's token key, migrates the stores, loads the demo once, starts the nodes,
waits for each ``/health``, then serves the hub in the foreground; Ctrl-C (or the hub
stopping) stops them all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from auth.hub_tokens import HubKey
from gateway.demo.plan import load_divisions
from levels.common.enums import Level

FIRST_NODE_PORT = 8101


def node_ids() -> dict[str, str]:
    """Node id → prefix: the city node, then one node per county of the demo city."""
    nodes = {"jinzhong": "140700"}
    for division, _name in load_divisions():
        if division.level is Level.COUNTY:
            nodes[f"county-{division.code[:6]}"] = division.code[:6]
    return nodes


def node_map(ports: dict[str, int]) -> str:
    text = ""
    for node_id, prefix in node_ids().items():
        levels = 'levels = ["CITY"]\n' if node_id == "jinzhong" else ""
        text += (
            f'[[nodes]]\nid = "{node_id}"\nprefixes = ["{prefix}"]\n{levels}'
            f'address = "http://127.0.0.1:{ports[node_id]}"\n\n'
        )
    return text


def _govhub(*args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "govhub"), *args]


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _wait(ports: dict[str, int], children: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + 120
    waiting = dict(ports)
    while waiting:
        if time.monotonic() > deadline or any(c.poll() is not None for c in children):
            raise SystemExit(f"nodes not serving: {', '.join(waiting)}")
        waiting = {n: p for n, p in waiting.items() if not _healthy(p)}
        time.sleep(0.3)


def main(folder: Path, first_port: int = FIRST_NODE_PORT) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    ports = {node_id: first_port + i for i, node_id in enumerate(node_ids())}
    (folder / "nodes.toml").write_text(node_map(ports), encoding="utf-8")
    key_file = folder / "hub-key.pem"
    HubKey.from_file(key_file, create=True)
    os.environ.update(
        GOVHUB_VAR_DIR=str(folder),
        GOVHUB_NODES=str(folder / "nodes.toml"),
        GOVHUB_HUB_KEY_FILE=str(key_file),
    )
    subprocess.run(_govhub("init"), check=True)
    subprocess.run(_govhub("demo", "--if-empty"), check=True)
    children: list[subprocess.Popen[bytes]] = []
    try:
        for node_id, port in ports.items():
            serve = _govhub("node", "serve", "--node", node_id, "--port", str(port))
            log = (folder / f"{node_id}.log").open("wb")
            children.append(subprocess.Popen(serve, stdout=log, stderr=subprocess.STDOUT))
        _wait(ports, children)
        print(f"{len(ports)} nodes on 127.0.0.1:{first_port}-{first_port + len(ports) - 1}")
        print(f"  their logs: {folder}/<node id>.log; the hub follows")
        subprocess.run(_govhub("serve"), check=False)
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                child.kill()


if __name__ == "__main__":
    args = sys.argv[1:]
    port = int(args[1]) if len(args) > 1 else FIRST_NODE_PORT
    main(Path(args[0] if args else "var/federated"), port)
