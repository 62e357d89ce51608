"""The transport and the messenger a deployment's settings ask for."""

from __future__ import annotations

import click

from gateway.messaging.jetstream import JetStreamTransport
from gateway.messaging.keys import jwks_source
from gateway.messaging.transport import InProcessBus, Transport, TransportDown
from gateway.messaging.worker import MessagePass, Messenger, node_keys, run_forever
from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.common.clock import Clock
from levels.outbox.signing import NodeSigner
from resolvers.case_updates import publish_case_updated
from resolvers.pubsub import Broker


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
    keys_url = settings.node_keys_url
    return Messenger(
        nodes,
        transport or transport_for(settings),
        clock,
        NodeSigner(settings.identity_secret()),
        node_keys(nodes, source=jwks_source(keys_url) if keys_url else None),
        batch=settings.relay_batch_size,
        nak_delay=settings.message_nak_delay_seconds,
        max_deliveries=settings.message_max_deliveries,
        resend_after=settings.message_resend_seconds,
    )


async def run_messages(
    settings: Settings, nodes: NodeRegistry, clock: Clock, *, once: bool, broker: Broker | None
) -> MessagePass | None:
    """``govhub relay`` over GOVHUB_MESSAGE_TRANSPORT: every node's publisher and
    consumer, one pass (``once``) or until stopped."""
    messenger = messenger_for(settings, nodes, clock)
    try:
        if not once:
            await run_forever(messenger, settings.relay_interval_seconds or 1.0, broker=broker)
            return None
        try:
            await messenger.start()
        except TransportDown as exc:
            raise click.ClickException(str(exc)) from exc
        done = await messenger.once()
        if broker is not None:
            for number in sorted(done.cases):
                await publish_case_updated(broker, number)
        return done
    finally:
        await messenger.transport.close()
