"""The transport and the messenger a deployment's settings ask for, and "carry what is
due now": one publish and consume pass (``govhub relay --once``, the demo loader,
tests)."""

from __future__ import annotations

import logging
import os
import signal
from typing import Any

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


def embedded_messenger(
    nodes: NodeRegistry, clock: Clock, secret: bytes, **options: Any
) -> Messenger:
    """A messenger over an in-process bus of its own, the nodes' keys read from their
    stores (the embedded default); ``options`` set its fields (batch, hook…)."""
    return Messenger(nodes, InProcessBus(), clock, NodeSigner(secret), node_keys(nodes), **options)


async def carry_once(messenger: Messenger) -> MessagePass:
    """Carry what is due now: start the messenger's transport, publish what is due from
    every node and consume what comes (messages, then their receipts), then close the
    transport. Over a bus of its own nothing outlives the pass: what it left SENT (its
    target did not answer) goes again at the next pass, whatever the clock says."""
    if isinstance(messenger.transport, InProcessBus):
        messenger.fresh = True
    try:
        await messenger.start()
        return await messenger.once()
    finally:
        await messenger.transport.close()


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
    if not once:
        try:
            await run_forever(messenger, settings.relay_interval_seconds or 1.0, broker=broker)
        finally:
            await messenger.transport.close()
        return None
    try:
        done = await carry_once(messenger)
    except TransportDown as exc:
        raise click.ClickException(str(exc)) from exc
    if broker is not None:
        for number in sorted(done.cases):
            await publish_case_updated(broker, number)
    return done
