"""The interface between the outbox and a message engine, and the in-process bus.

Every transport carries opaque bytes (signed envelopes and receipts) to a node by name,
at least once: a publish names a message id, and a second publish of the same id
within the duplicate window is dropped; a delivery is acked once handled, nak'ed to
come again after a delay, or terminated; one neither acked nor nak'ed comes again after
the ack wait (the consumer died). The in-process bus does this in memory, for the
embedded default (``make run``: no server); ``jetstream`` does it on NATS."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol


class TransportDown(Exception):
    """The message engine did not take or give messages now: try again later."""


class Delivery(Protocol):
    data: bytes
    # how many times this message has been delivered, this time included (1, 2, …)
    deliveries: int

    async def ack(self) -> None: ...
    async def nak(self, delay: float) -> None: ...
    async def term(self) -> None: ...


class Transport(Protocol):
    name: str

    async def start(self, nodes: Iterable[str]) -> None:
        """Declare what the nodes need (a stream, a durable consumer each)."""

    async def publish(self, node: str, msg_id: str, data: bytes) -> bool:
        """Send ``data`` to ``node``; False if the id was a duplicate and dropped.
        Raises ``TransportDown``."""

    async def fetch(self, node: str, *, batch: int, timeout: float) -> list[Delivery]:
        """Up to ``batch`` deliveries for ``node`` (none after ``timeout`` seconds)."""

    async def backlog(self, node: str) -> int | None:
        """Deliveries waiting for ``node`` (not delivered, or not acked); None: unknown."""

    async def close(self) -> None: ...


@dataclass(eq=False)
class _Entry:
    msg_id: str
    data: bytes
    deliveries: int = 0
    not_before: float = 0.0  # monotonic: nak'ed until then
    in_flight_until: float | None = None  # delivered, neither acked nor nak'ed


@dataclass
class _BusDelivery:
    bus: InProcessBus
    node: str
    entry: _Entry
    data: bytes = b""
    deliveries: int = 0

    def __post_init__(self) -> None:
        self.data = self.entry.data
        self.deliveries = self.entry.deliveries

    async def ack(self) -> None:
        self.bus._drop(self.node, self.entry)

    async def term(self) -> None:
        self.bus._drop(self.node, self.entry)

    async def nak(self, delay: float) -> None:
        self.entry.in_flight_until = None
        self.entry.not_before = time.monotonic() + delay


@dataclass
class InProcessBus:
    """The embedded default: a queue per node in this process (what is in flight is
    lost with the process; the outbox sends SENT messages again after their resend
    delay, and the inbox drops what was applied already)."""

    ack_wait: float = 30.0
    duplicate_window: float = 120.0
    name: str = "inprocess"
    _queues: dict[str, list[_Entry]] = field(default_factory=dict)
    _seen: OrderedDict[str, float] = field(default_factory=OrderedDict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def start(self, nodes: Iterable[str]) -> None:
        for node in nodes:
            self._queues.setdefault(node, [])

    async def publish(self, node: str, msg_id: str, data: bytes) -> bool:
        now = time.monotonic()
        while self._seen and next(iter(self._seen.values())) < now - self.duplicate_window:
            self._seen.popitem(last=False)
        if msg_id in self._seen:
            return False
        self._seen[msg_id] = now
        self._queues.setdefault(node, []).append(_Entry(msg_id, data))
        return True

    async def fetch(self, node: str, *, batch: int, timeout: float) -> list[Delivery]:
        now = time.monotonic()
        out: list[Delivery] = []
        for entry in self._queues.get(node, []):
            if len(out) >= batch:
                break
            if entry.not_before > now:
                continue
            if entry.in_flight_until is not None and entry.in_flight_until > now:
                continue
            entry.deliveries += 1
            entry.in_flight_until = now + self.ack_wait
            out.append(_BusDelivery(self, node, entry))
        return out

    def _drop(self, node: str, entry: _Entry) -> None:
        queue = self._queues.get(node, [])
        if entry in queue:
            queue.remove(entry)

    def pending(self, node: str) -> int:
        return len(self._queues.get(node, []))

    async def backlog(self, node: str) -> int | None:
        return self.pending(node)

    async def close(self) -> None:
        return None
