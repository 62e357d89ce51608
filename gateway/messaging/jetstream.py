"""The message transport on NATS JetStream (``GOVHUB_MESSAGE_TRANSPORT=nats``).

One stream (``GOVHUB_NATS_STREAM``) holds the subjects ``<prefix>.msg.<node>``; each
node reads its subject through one durable pull consumer (explicit acks, so several
workers of a node share it and a worker that dies before its ack has its messages
delivered again after the ack wait). A publish carries ``Nats-Msg-Id``: the server
drops a second publish of the same id within the stream's duplicate window."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import nats
import nats.errors
import nats.js.errors
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig

from gateway.messaging.transport import Delivery, TransportDown


@dataclass
class _NatsDelivery:
    msg: Any
    data: bytes
    deliveries: int

    async def ack(self) -> None:
        await self.msg.ack()

    async def nak(self, delay: float) -> None:
        await self.msg.nak(delay=delay)

    async def term(self) -> None:
        await self.msg.term()


class JetStreamTransport:
    name = "nats"

    def __init__(
        self,
        url: str,
        *,
        stream: str = "govhub-messages",
        prefix: str = "govhub",
        ack_wait: float = 30.0,
        duplicate_window: float = 120.0,
        connect_timeout: float = 2.0,
    ) -> None:
        self.url = url
        self.stream = stream
        self.prefix = prefix
        self.ack_wait = ack_wait
        self.duplicate_window = duplicate_window
        self.connect_timeout = connect_timeout
        self._nc: Any = None
        self._js: Any = None
        self._subs: dict[str, Any] = {}

    def subject(self, node: str) -> str:
        return f"{self.prefix}.msg.{node}"

    def durable(self, node: str) -> str:
        return f"{self.stream}_{node}".replace(".", "_")

    async def connect(self) -> Any:
        if self._js is None:
            try:
                self._nc = await nats.connect(
                    self.url,
                    connect_timeout=self.connect_timeout,
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                )
            except Exception as exc:
                raise TransportDown(f"NATS at {self.url} not answering: {exc!r}") from exc
            self._js = self._nc.jetstream()
        return self._js

    async def start(self, nodes: Iterable[str]) -> None:
        js = await self.connect()
        config = StreamConfig(
            name=self.stream,
            subjects=[f"{self.prefix}.msg.>"],
            duplicate_window=self.duplicate_window,
        )
        try:
            await js.add_stream(config)
        except nats.js.errors.BadRequestError:
            await js.update_stream(config)  # declared before, perhaps otherwise
        for node in nodes:
            await self._subscription(node)

    async def _subscription(self, node: str) -> Any:
        sub = self._subs.get(node)
        if sub is None:
            js = await self.connect()
            sub = await js.pull_subscribe(
                self.subject(node),
                durable=self.durable(node),
                stream=self.stream,
                config=ConsumerConfig(
                    ack_policy=AckPolicy.EXPLICIT,
                    deliver_policy=DeliverPolicy.ALL,
                    ack_wait=self.ack_wait,
                    max_deliver=-1,  # the worker counts redeliveries and raises the incident
                ),
            )
            self._subs[node] = sub
        return sub

    async def publish(self, node: str, msg_id: str, data: bytes) -> bool:
        js = await self.connect()
        try:
            ack = await js.publish(
                self.subject(node), data, stream=self.stream, headers={"Nats-Msg-Id": msg_id}
            )
        except (nats.errors.Error, TimeoutError, OSError) as exc:
            raise TransportDown(f"NATS did not take {msg_id}: {exc!r}") from exc
        return not ack.duplicate

    async def fetch(self, node: str, *, batch: int, timeout: float) -> list[Delivery]:
        sub = await self._subscription(node)
        try:
            msgs = await sub.fetch(batch, timeout=timeout)
        except (nats.errors.TimeoutError, TimeoutError):
            return []
        except (nats.errors.Error, OSError) as exc:
            raise TransportDown(f"NATS did not deliver to {node}: {exc!r}") from exc
        return [_NatsDelivery(m, m.data, m.metadata.num_delivered) for m in msgs]

    async def backlog(self, node: str) -> int | None:
        """The node's durable consumer's pending and unacked deliveries (None before
        the consumer exists)."""
        if self._js is None:
            return None
        try:
            info = await self._js.consumer_info(self.stream, self.durable(node))
        except nats.js.errors.NotFoundError:
            return None
        except (nats.errors.Error, TimeoutError, OSError) as exc:
            raise TransportDown(f"NATS did not tell {node}'s backlog: {exc!r}") from exc
        return int(info.num_pending or 0) + int(info.num_ack_pending or 0)

    async def delete_stream(self) -> None:
        """Drop the stream and its consumers (tests)."""
        js = await self.connect()
        await js.delete_stream(self.stream)

    async def close(self) -> None:
        if self._nc is not None:
            await self._nc.close()
        self._nc = self._js = None
        self._subs.clear()
