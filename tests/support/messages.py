"""Carry the cross-level messages that are due, as the embedded default does: one
publish and consume pass over an in-process bus of its own, signed with the test
stores' keys (``gateway.messaging.factory.carry_once``)."""

from __future__ import annotations

from typing import Any

from gateway.messaging.factory import carry_once, embedded_messenger
from gateway.messaging.worker import MessagePass
from gateway.nodes import NodeRegistry
from levels.common.clock import Clock
from tests.conftest import TEST_SECRET

# an early or failed message comes again within the same pass
NAK = 0.0


async def carry(nodes: NodeRegistry, clock: Clock, **options: Any) -> MessagePass:
    """One pass: what is due in every outbox goes to its target, and the receipts come
    back. ``options`` set the messenger's fields (``batch``, ``hook``…)."""
    options.setdefault("nak_delay", NAK)
    return await carry_once(embedded_messenger(nodes, clock, TEST_SECRET.encode(), **options))


async def carry_all(nodes: NodeRegistry, clock: Clock, **options: Any) -> MessagePass:
    """Passes until one moves nothing; the sum of the passes."""
    total = MessagePass()
    for _ in range(20):
        done = await carry(nodes, clock, **options)
        for name in (
            "published",
            "applied",
            "duplicates",
            "early",
            "refused",
            "receipts",
            "failed",
            "retrying",
        ):
            setattr(total, name, getattr(total, name) + getattr(done, name))
        total.down |= done.down
        total.cases |= done.cases
        if not done.moved:
            return total
    raise AssertionError("the messages never came to rest")
