"""Envelopes handed to their target node's ``POST /inbox`` (its address in the map):
how a node's own relay sends (``govhub node serve``, gateway/node_workers.py) and how
the hub's relay, over its in-process bus, reaches a node that serves itself.

The receipt in the target's answer is queued on ``receipts`` (an in-process bus) for
the sender to consume, as a receipt would come back over a message engine. A target
without an address is the hub's: when ``local`` (the hub's own relay) it is put on
``receipts`` too, the bus the hub's relay consumes the nodes it serves from; else,
given the ``hub``'s address (``GOVHUB_HUB_URL``), handed to the hub's
``POST /nodes/<id>/inbox`` (gateway/messaging/hub_inbox.py), which applies it in that
node's store as a node's ``/inbox`` does; with neither it is ``TransportDown`` (the
message waits). A target, or a hub, that does not answer is ``TransportDown``."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

import httpx
import jwt

from gateway.messaging.transport import Delivery, InProcessBus, TransportDown
from levels.common.nodemap import NodeMap

log = logging.getLogger("govhub.messaging")


def sender_of(envelope: bytes) -> str | None:
    """The node that signed ``envelope`` (its ``iss``, read unverified: the envelope is
    one this process signed and sends)."""
    try:
        claims = jwt.decode(envelope, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    sender = claims.get("iss")
    return sender if isinstance(sender, str) else None


@dataclass
class InboxTransport:
    nodes: NodeMap
    timeout: float
    # a target without an address is on ``receipts`` (the hub's in-process bus)
    local: bool = False
    # the hub's base URL: a target without an address is posted to its inbox for it
    hub: str | None = None
    name: str = "inbox"
    receipts: InProcessBus = field(default_factory=InProcessBus)
    client: httpx.AsyncClient | None = None

    async def start(self, nodes: Iterable[str]) -> None:
        await self.receipts.start(nodes)
        if self.client is None:
            self.client = httpx.AsyncClient(timeout=self.timeout)

    def inbox_of(self, node: str) -> str:
        """Where a message for ``node`` is posted: its own ``/inbox``, or the hub's
        inbox for it when the map gives it no address (TransportDown without a hub)."""
        spec = self.nodes[node]
        if not spec.in_process:
            return spec.address.rstrip("/") + "/inbox"
        if self.hub is None:
            raise TransportDown(f"node {node!r} has no address to deliver to (no GOVHUB_HUB_URL)")
        return f"{self.hub.rstrip('/')}/nodes/{node}/inbox"

    async def publish(self, node: str, msg_id: str, data: bytes) -> bool:
        if self.local and self.nodes[node].in_process:
            return await self.receipts.publish(node, msg_id, data)
        url = self.inbox_of(node)
        assert self.client is not None
        try:
            response = await self.client.post(
                url, content=data, headers={"Content-Type": "application/jose"}
            )
            response.raise_for_status()
            answer = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise TransportDown(f"node {node!r} at {url}: {exc!r}") from exc
        receipt = answer.get("receipt")
        sender = sender_of(data)
        if isinstance(receipt, str) and sender is not None:
            await self.receipts.publish(sender, f"{msg_id}.receipt", receipt.encode())
        elif answer.get("outcome") == "WAIT":
            log.info("node %s: message %s waits: %s", node, msg_id, answer.get("reason"))
        return True

    async def fetch(self, node: str, *, batch: int, timeout: float) -> list[Delivery]:
        return await self.receipts.fetch(node, batch=batch, timeout=timeout)

    async def backlog(self, node: str) -> int | None:
        return await self.receipts.backlog(node)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()
            self.client = None
