"""The hub's JWKS of nodes: every node's public message-signing keys, served at
``/.well-known/node-keys.json``, and the reader a message worker on another host
verifies envelopes and receipts against (``GOVHUB_NODE_KEYS_URL``).

Each entry is the node key's JWK with its ``kid`` and the ``node`` it belongs to (a
``licence_keys`` row of that node's store whose org is ``node:<node>``; retired keys
stay listed, so what they signed still verifies). A node the hub reaches at an address
lists its own: the hub reads the node's ``/.well-known/node-keys.json`` through its
client of the node (``published_keys``), never the node's store; the others' are read
from their stores. A node (or store) that does not answer leaves its keys out. The
licence JWKS (``/.well-known/jwks.json``) leaves these keys out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.messaging.jwks import PATH, jwks_source
from gateway.messaging.worker import published_keys
from gateway.nodes import NodeRegistry

__all__ = ["PATH", "jwks_source", "routes"]


def routes(nodes: NodeRegistry) -> list[Route]:
    async def jwks(_request: Request) -> JSONResponse:
        keys = published_keys(nodes)
        await keys.reload()  # a node or store that does not answer leaves its keys out
        return JSONResponse(keys.jwks(), headers={"Cache-Control": "max-age=60"})

    return [Route(PATH, jwks, methods=["GET"])]
