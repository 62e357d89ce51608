"""The hub's JWKS of nodes: every node's public message-signing keys, served at
``/.well-known/node-keys.json``, and the reader a message worker on another host
verifies envelopes and receipts against (``GOVHUB_NODE_KEYS_URL``).

Each entry is the node key's JWK with its ``kid`` and the ``node`` it belongs to (a
``licence_keys`` row of that node's store whose org is ``node:<node>``; retired keys
stay listed, so what they signed still verifies). The licence JWKS
(``/.well-known/jwks.json``) leaves these keys out."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.messaging.worker import node_keys
from gateway.nodes import NodeRegistry
from levels.outbox import signing

PATH = "/.well-known/node-keys.json"


def routes(nodes: NodeRegistry) -> list[Route]:
    async def jwks(_request: Request) -> JSONResponse:
        keys = node_keys(nodes)
        await keys.reload()  # a store that does not answer leaves its keys out
        return JSONResponse(keys.jwks(), headers={"Cache-Control": "max-age=60"})

    return [Route(PATH, jwks, methods=["GET"])]


def jwks_source(
    url: str, *, client: httpx.AsyncClient | None = None, timeout: float = 5.0
) -> signing.NodeKeySource:
    """Node keys read from a JWKS of nodes at ``url`` (read again when a message names
    a ``kid`` not seen yet); a hub that does not answer raises ``SourceDown``."""

    async def read() -> list[Any]:
        try:
            if client is not None:
                response = await client.get(url, timeout=timeout)
            else:
                async with httpx.AsyncClient() as own:
                    response = await own.get(url, timeout=timeout)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise signing.SourceDown(f"the JWKS of nodes at {url}: {exc!r}") from exc
        return signing.keys_from_jwks(document)

    return read
