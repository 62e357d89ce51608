"""The message worker's figures on ``/metrics`` (beside each node's outbox backlog and
oldest waiting message, counted in its store by ``gateway.health.StoreStats``):

* ``govhub_messages_stream_pending{stream, node}`` — deliveries waiting in the
  transport for a node: not yet delivered plus delivered and not yet acked (JetStream:
  its durable consumer's ``num_pending + num_ack_pending``; the in-process bus: its
  queue);
* ``govhub_messages_applied_total{node}``, ``govhub_messages_redelivered_total{node}``
  (an early or failing message nak'ed to come again) and
  ``govhub_messages_incidents_total{node}`` (refused for good), counted by this
  process's worker since it started."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Gauge
from prometheus_client.core import CounterMetricFamily, Metric

from gateway.messaging.worker import Messenger

log = logging.getLogger("govhub.messaging")


class MessageMetrics:
    def __init__(
        self, registry: CollectorRegistry, messenger: Messenger, stream: str, timeout: float
    ) -> None:
        self.messenger = messenger
        self.stream = stream
        self.timeout = timeout
        self.stream_pending = Gauge(
            "govhub_messages_stream_pending",
            "Deliveries waiting in the message transport for a node (not yet delivered, or"
            " delivered and not yet acked)",
            ["stream", "node"],
            registry=registry,
        )
        registry.register(self)

    async def refresh(self) -> None:
        """Ask the transport for each node's backlog; one it cannot tell now vanishes."""
        for node in self.messenger.served():
            try:
                count = await asyncio.wait_for(
                    self.messenger.transport.backlog(node.name), self.timeout
                )
            except Exception as exc:
                log.warning("no stream backlog of %s: %r", node.name, exc)
                count = None
            if count is None:
                with contextlib.suppress(KeyError):
                    self.stream_pending.remove(self.stream, node.name)
            else:
                self.stream_pending.labels(self.stream, node.name).set(count)

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        stats = self.messenger.stats
        for name, help_text, counts in (
            ("govhub_messages_applied", "Messages applied at a node by this worker", stats.applied),
            (
                "govhub_messages_redelivered",
                "Deliveries to a node nak'ed to come again (early, or a passing failure)",
                stats.redelivered,
            ),
            (
                "govhub_messages_incidents",
                "Messages a node refused for good (bad signature or owner, a handler's"
                " refusal, a predecessor that never came)",
                stats.incidents,
            ),
        ):
            family = CounterMetricFamily(name, help_text, labels=["node"])
            for node in self.messenger.served():
                family.add_metric([node.name], counts.get(node.name, 0))
            yield family
