"""The transport and the messenger a deployment's settings ask for."""

from __future__ import annotations

import logging
import os
import signal

import click

from gateway.messaging.jetstream import JetStreamTransport
from gateway.messaging.keys import jwks_source
from gateway.messaging.transport import InProcessBus, Transport, TransportDown
from gateway.messaging.worker import MessagePass, Messenger, StepHook, node_keys, run_forever
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


def halt_at(step: str) -> StepHook:
    """``GOVHUB_MESSAGE_HALT_AT``: the process stops itself (SIGSTOP) the first time it
    reaches ``step``, saying so on its log, and goes on only if sent SIGCONT."""
    halted = False

    async def hook(at: str, message_id: str) -> None:
        nonlocal halted
        if at == step and not halted:
            halted = True
            logging.getLogger("govhub.messaging").warning(
                "halted at %s of message %s (GOVHUB_MESSAGE_HALT_AT)", step, message_id
            )
            os.kill(os.getpid(), signal.SIGSTOP)

    return hook


def messenger_for(
    settings: Settings,
    nodes: NodeRegistry,
    clock: Clock,
    transport: Transport | None = None,
    *,
    serves: frozenset[str] | None = None,
) -> Messenger:
    """The messenger of ``govhub relay``; ``serves``: the nodes it works for (all)."""
    keys_url = settings.node_keys_url
    messenger = Messenger(
        nodes,
        transport or transport_for(settings),
        clock,
        NodeSigner(settings.identity_secret()),
        node_keys(nodes, source=jwks_source(keys_url) if keys_url else None),
        batch=settings.relay_batch_size,
        nak_delay=settings.message_nak_delay_seconds,
        max_deliveries=settings.message_max_deliveries,
        resend_after=settings.message_resend_seconds,
        serves=serves,
    )
    if settings.message_halt_at:
        messenger.hook = halt_at(settings.message_halt_at)
    return messenger


async def run_messages(
    settings: Settings,
    nodes: NodeRegistry,
    clock: Clock,
    *,
    once: bool,
    broker: Broker | None,
    serves: frozenset[str] | None = None,
) -> MessagePass | None:
    """``govhub relay`` over GOVHUB_MESSAGE_TRANSPORT: every node's publisher and
    consumer (or those of ``serves``), one pass (``once``) or until stopped."""
    messenger = messenger_for(settings, nodes, clock, serves=serves)
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
