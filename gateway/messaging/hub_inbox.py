"""The hub's inbox for the nodes it holds: ``POST /nodes/<id>/inbox``, for each node the
map gives no address (``hub_served``), where a node served on its own hands a message
for such a node when there is no NATS between them (its relay, given the hub's address
``GOVHUB_HUB_URL``: gateway/messaging/inbox.py).

It is a node's ``POST /inbox`` (``gateway.node_app.inbox_endpoint`` over
``levels.node.inbox.Inbox``) run by the hub over that node's store: the envelope's
signature checked against its sender's keys (``hub_keys``: a node with an address at
its own ``/.well-known/node-keys.json``), the target checked to be that node's, the
message applied in its store once with its inbox row (a second delivery is DUPLICATE,
an entity's later message WAITs for its earlier one), a refusal audited there, and the
receipt signed with that node's key. A node the hub does not hold is 404."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.messaging.factory import hub_keys, hub_served
from gateway.node_app import inbox_endpoint
from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.common.clock import Clock
from levels.node.inbox import Inbox, Outcome
from levels.node.scope import NodeScope
from levels.outbox.signing import NodeSigner

PATH = "/nodes/{node}/inbox"


def routes(nodes: NodeRegistry, settings: Settings, clock: Clock) -> list[Route]:
    """The hub's ``POST /nodes/<id>/inbox`` (none when it holds no node)."""
    held = hub_served(nodes)
    if not held:
        return []
    keys = hub_keys(nodes, settings)
    signer = NodeSigner(settings.identity_secret())
    endpoints = {
        node.name: inbox_endpoint(
            Inbox(NodeScope(node.spec, nodes.map), keys, node.sessions, signer), clock
        )
        for node in nodes
        if node.name in held
    }

    async def deliver(request: Request) -> Response:
        node = request.path_params["node"]
        endpoint = endpoints.get(node)
        if endpoint is None:
            reason = f"the hub holds no node {node!r} (one with an address has its own /inbox)"
            return JSONResponse({"outcome": Outcome.REFUSED.value, "reason": reason}, 404)
        return await endpoint(request)

    return [Route(PATH, deliver, methods=["POST"])]
