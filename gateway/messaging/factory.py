"""The transport and the messenger a deployment's settings ask for, and "carry what is
due now": one publish and consume pass (``govhub relay --once``, the demo loader,
tests).

The hub's relay (the gateway's worker, ``govhub relay`` without ``--node``) works for
the nodes the map gives no ``http(s)://`` address (``hub_served``), as the hub's timer
pass does: a node served on its own relays its own outbox (``govhub node serve``), so
the hub opens no SQL to its store and sends nothing of it twice. A message from a node
the hub serves to one with an address goes to that node's ``POST /inbox`` over the
in-process bus (``InboxTransport``, as a node's own relay sends), or is consumed by the
target's own worker over NATS; one the other way, from a node with an address, comes
to the hub's ``POST /nodes/<id>/inbox`` (``hub_inbox.py``) without NATS."""

from __future__ import annotations

import logging
import os
import signal
from typing import Any

import click

from gateway.messaging.inbox import InboxTransport
from gateway.messaging.jetstream import JetStreamTransport
from gateway.messaging.jwks import jwks_source
from gateway.messaging.transport import InProcessBus, Transport, TransportDown
from gateway.messaging.worker import MessagePass, Messenger, StepHook, node_keys, run_forever
from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.common.clock import Clock
from levels.common.nodemap import NodeMap
from levels.outbox import signing
from levels.outbox.signing import NodeSigner
from resolvers.case_updates import publish_case_updated
from resolvers.pubsub import Broker


def transport_for(settings: Settings, nodes: NodeMap | None = None) -> Transport:
    """GOVHUB_MESSAGE_TRANSPORT's transport; the in-process bus hands a message for a
    node of ``nodes`` with an address to that node's ``/inbox``."""
    if settings.message_transport == "nats":
        return JetStreamTransport(
            settings.nats_url,
            stream=settings.nats_stream,
            prefix=settings.nats_subject_prefix,
            ack_wait=settings.message_ack_wait_seconds,
        )
    bus = InProcessBus(ack_wait=settings.message_ack_wait_seconds)
    if nodes is not None and any(not n.in_process for n in nodes):
        return InboxTransport(nodes, settings.node_timeout_seconds, local=True, receipts=bus)
    return bus


# what the hub's relay says when the map leaves it no node to work for
NOTHING_TO_RELAY = (
    "the hub relays for no node: every node of the map serves itself "
    "(govhub node serve; --node ID to relay for one)"
)


def hub_served(nodes: NodeRegistry) -> frozenset[str]:
    """The nodes the hub's relay works for: those the map gives no address."""
    return frozenset(n.name for n in nodes if n.spec.in_process)


def hub_keys(
    nodes: NodeRegistry, settings: Settings, serves: frozenset[str] | None = None
) -> signing.NodeKeys:
    """The nodes' public keys for the hub's relay working in the stores of ``serves``
    (by default the hub's, ``hub_served``): the hub's JWKS of nodes when
    GOVHUB_NODE_KEYS_URL is set; else a node with an address publishes its own (its
    store is not the hub's to read: ``node_keys``) and the others' are read from their
    stores."""
    if settings.node_keys_url:
        return node_keys(nodes, source=jwks_source(settings.node_keys_url))
    return node_keys(
        nodes,
        serves=hub_served(nodes) if serves is None else serves,
        timeout=settings.node_timeout_seconds,
    )


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
    """The messenger of ``govhub relay``; ``serves``: the nodes it works for (by
    default the hub's, ``hub_served``)."""
    messenger = Messenger(
        nodes,
        transport or transport_for(settings, nodes.map),
        clock,
        NodeSigner(settings.identity_secret()),
        hub_keys(nodes, settings, serves),
        batch=settings.relay_batch_size,
        nak_delay=settings.message_nak_delay_seconds,
        max_deliveries=settings.message_max_deliveries,
        resend_after=settings.message_resend_seconds,
        serves=hub_served(nodes) if serves is None else serves,
    )
    if settings.message_halt_at:
        messenger.hook = halt_at(settings.message_halt_at)
    return messenger


def embedded_messenger(
    nodes: NodeRegistry, clock: Clock, secret: bytes, **options: Any
) -> Messenger:
    """A messenger over an in-process bus of its own; ``options`` set its fields (batch,
    hook, serves…). The nodes' keys are read from the stores it works in (every one by
    default: the embedded default, the demo loader); a node with an address it does not
    work in lists its own (``node_keys``)."""
    keys = node_keys(nodes, serves=options.get("serves"))
    return Messenger(nodes, InProcessBus(), clock, NodeSigner(secret), keys, **options)


async def carry_once(messenger: Messenger) -> MessagePass:
    """Carry what is due now: start the messenger's transport, publish what is due from
    every node and consume what comes (messages, then their receipts), then close the
    transport. Over a bus of its own nothing outlives the pass: what it left SENT (its
    target did not answer) goes again at the next pass, whatever the clock says."""
    transport = messenger.transport
    if isinstance(transport, InProcessBus) or (
        isinstance(transport, InboxTransport) and transport.local
    ):
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
    """``govhub relay`` over GOVHUB_MESSAGE_TRANSPORT: the publisher and consumer of
    the nodes the hub serves (or of ``serves``), one pass (``once``) or until stopped."""
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
