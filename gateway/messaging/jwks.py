"""Reading a JWKS of nodes over HTTP: the hub's (``GOVHUB_NODE_KEYS_URL``), or a node's
own at its address (``/.well-known/node-keys.json``, what ``govhub node serve``
publishes of its keys). Kept apart from the worker so the node's app can read its
peers' keys without importing the hub's registry."""

from __future__ import annotations

from typing import Any

import httpx

from levels.outbox import signing

PATH = "/.well-known/node-keys.json"


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
