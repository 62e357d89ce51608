"""The message transports a delivery test runs over: the in-process bus and NATS
JetStream (a stream of its own per test, deleted after)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.messaging.jetstream import JetStreamTransport
from gateway.messaging.transport import InProcessBus, Transport
from tests.gateway.test_message_transport import _nats_transport


@pytest.fixture(params=["inprocess", "nats"])
async def transport(request: pytest.FixtureRequest) -> AsyncIterator[Transport]:
    made: Transport
    if request.param == "nats":
        made = await _nats_transport(1.0)
    else:
        made = InProcessBus(ack_wait=1.0)
    yield made
    if isinstance(made, JetStreamTransport):
        await made.delete_stream()
    await made.close()
