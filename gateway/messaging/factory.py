"""The transport and the messenger a deployment's settings ask for."""

from __future__ import annotations

from gateway.messaging.jetstream import JetStreamTransport
from gateway.messaging.transport import InProcessBus, Transport
from gateway.messaging.worker import Messenger, node_keys
from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.common.clock import Clock
from levels.outbox.signing import NodeSigner


def transport_for(settings: Settings) -> Transport:
    if settings.message_transport == "nats":
        return JetStreamTransport(
            settings.nats_url,
            stream=settings.nats_stream,
            prefix=settings.nats_subject_prefix,
            ack_wait=settings.message_ack_wait_seconds,
        )
    return InProcessBus(ack_wait=settings.message_ack_wait_seconds)


def messenger_for(
    settings: Settings, nodes: NodeRegistry, clock: Clock, transport: Transport | None = None
) -> Messenger:
    return Messenger(
        nodes,
        transport or transport_for(settings),
        clock,
        NodeSigner(settings.identity_secret()),
        node_keys(nodes),
        batch=settings.relay_batch_size,
        nak_delay=settings.message_nak_delay_seconds,
        max_deliveries=settings.message_max_deliveries,
        resend_after=settings.message_resend_seconds,
    )
