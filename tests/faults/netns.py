"""Hosts of a test network: a network namespace each, wired to one bridge.

``Lab`` makes a switch namespace holding a Linux bridge, and for each host a namespace
of its own joined to the bridge by a veth pair, all in one /24 of their own; the harness
itself (the hub, in the root namespace) gets a veth to the bridge too. A host's link is
cut and mended on the bridge's side (``ip link set … down/up``): its packets are dropped
while it is down, its sockets stay open. Every name carries a tag unique to the run, so
two runs do not collide; ``close`` removes what was made (deleting a namespace deletes
its veths) and is safe to call twice."""

from __future__ import annotations

import ipaddress
import os
import random
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass, field


def missing() -> str | None:
    """Why hosts cannot be made here (None: they can)."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "iproute2's `ip` is not installed"
    return None


def _ip(*args: str) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def _free_subnet() -> ipaddress.IPv4Network:
    """A /24 of 10.0.0.0/8 no route of the root namespace touches."""
    used = [
        ipaddress.ip_network(line.split()[0], strict=False)
        for line in _ip("-4", "route", "show", "table", "all").splitlines()
        if line and line.split()[0][0].isdigit()
    ]
    for _ in range(200):
        net = ipaddress.ip_network(f"10.{random.randint(64, 250)}.{random.randint(0, 255)}.0/24")
        if not any(net.overlaps(u) for u in used if u.prefixlen > 0):
            return net
    raise RuntimeError("no free /24 in 10.0.0.0/8 for the test hosts")


@dataclass
class Lab:
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    subnet: ipaddress.IPv4Network = field(default_factory=_free_subnet)
    hosts: dict[str, str] = field(default_factory=dict)  # host → its address
    ports: dict[str, str] = field(default_factory=dict)  # host → its port on the bridge
    _namespaces: list[str] = field(default_factory=list)
    _root_link: str | None = None

    @property
    def switch(self) -> str:
        return f"gh{self.tag}-sw"

    def namespace(self, host: str) -> str:
        return f"gh{self.tag}-{host}"

    def _port(self, index: int) -> str:
        """The bridge's side of a host's link (names of at most 15 characters)."""
        return f"gh{self.tag}p{index}"

    def _add_namespace(self, name: str) -> None:
        _ip("netns", "add", name)
        self._namespaces.append(name)
        _ip("-n", name, "link", "set", "lo", "up")

    def open(self) -> str:
        """The switch and the hub's link to it; the hub's address."""
        self._add_namespace(self.switch)
        _ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
        _ip("-n", self.switch, "link", "set", "br0", "up")
        hub, port = f"gh{self.tag}h", self._port(0)
        _ip("link", "add", hub, "type", "veth", "peer", "name", port)
        self._root_link = hub
        _ip("link", "set", port, "netns", self.switch)
        self._plug(port)
        address = str(self.subnet[1])
        _ip("addr", "add", f"{address}/{self.subnet.prefixlen}", "dev", hub)
        _ip("link", "set", hub, "up")
        self.hosts["hub"], self.ports["hub"] = address, port
        return address

    def _plug(self, port: str) -> None:
        _ip("-n", self.switch, "link", "set", port, "master", "br0")
        _ip("-n", self.switch, "link", "set", port, "up")

    def add_host(self, host: str) -> str:
        """A namespace for ``host`` on the switch; its address."""
        index = len(self.hosts) + 1
        ns, port, inside = self.namespace(host), self._port(index), f"gh{self.tag}i{index}"
        self._add_namespace(ns)
        _ip("link", "add", inside, "type", "veth", "peer", "name", port)
        _ip("link", "set", port, "netns", self.switch)
        _ip("link", "set", inside, "netns", ns)
        self._plug(port)
        address = str(self.subnet[index + 1])
        _ip("-n", ns, "link", "set", inside, "name", "eth0")
        _ip("-n", ns, "addr", "add", f"{address}/{self.subnet.prefixlen}", "dev", "eth0")
        _ip("-n", ns, "link", "set", "eth0", "up")
        self.hosts[host], self.ports[host] = address, port
        return address

    def link(self, host: str, *, up: bool) -> None:
        """Mend or cut ``host``'s link on the switch."""
        _ip("-n", self.switch, "link", "set", self.ports[host], "up" if up else "down")

    def reaches(self, host: str, address: str, port: int, timeout: float = 0.5) -> bool:
        """Whether a TCP connection from ``host`` to ``address:port`` opens."""
        probe = f"import socket; socket.create_connection(({address!r}, {port}), {timeout})"
        done = subprocess.run(
            [*self.run_in(host), sys.executable, "-S", "-c", probe],
            capture_output=True,
            timeout=30,
        )
        return done.returncode == 0

    def run_in(self, host: str) -> list[str]:
        """The command prefix that runs a program on ``host``."""
        return ["ip", "netns", "exec", self.namespace(host)]

    def close(self) -> None:
        for name in reversed(self._namespaces):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)
        self._namespaces.clear()
        if self._root_link is not None:
            subprocess.run(["ip", "link", "del", self._root_link], capture_output=True, timeout=30)
            self._root_link = None
