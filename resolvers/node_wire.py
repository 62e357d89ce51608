"""The hub's HTTP/1.1 to one node over the network: one ``aiohttp.ClientSession`` per
node, its ``TCPConnector`` keeping connections alive (aiohttp's C parser reads the
answers).

``httpx.AsyncClient`` cost the hub about 0.7 ms of CPU per call to a node — its request
and URL models, header validation, h11 and anyio's stream layers. A node call is always
the same: a ``POST`` of JSON or a ``GET`` to one origin, an answer with a length; this
asks aiohttp for it with the headers the node reads and returns the answer's status and
body.

* A connection is reused once its answer is read in full and neither side said
  ``Connection: close``; one idle longer than ``IDLE_SECONDS`` (under uvicorn's
  keep-alive of 5 s, which closes it then) is closed by the connector instead of reused.
  At most ``CONNECTIONS`` are open at once (the calls beyond wait for one).
* A call cut short (its caller's timeout, a cancellation) leaves its connection to
  aiohttp, which closes one whose answer was not read to its end: an answer that may
  still come is never read as the next call's.
* No proxy from the environment (``trust_env=False``), no redirects, no compression
  asked or undone: a node is reached at the address in the node map, as it answers.
  The bound on a call's time is the caller's (``asyncio.timeout``), not aiohttp's.

What fails is ``NodeWireError`` (``aiohttp.ClientError``: refused, reset, closed before
the answer, not HTTP …) or an ``OSError`` of the socket: the client's "not reachable"."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson
from yarl import URL

IDLE_SECONDS = 4.0
CONNECTIONS = 100

NodeWireError = aiohttp.ClientError
# aiohttp's own headers the hub does not want: no compression is undone here
_SKIPPED = ("Accept-Encoding", "User-Agent")


class Answer:
    """A node's answer: its status, its headers (case-insensitive) and its body."""

    __slots__ = ("content", "headers", "status_code")

    def __init__(
        self, status_code: int, content: bytes, headers: Mapping[str, str] | None = None
    ) -> None:
        self.status_code = status_code
        self.content = content
        self.headers: Mapping[str, str] = headers if headers is not None else {}

    def json(self) -> Any:
        return orjson.loads(self.content)


class NodeWire:
    """Calls to one origin (``http(s)://host[:port][/prefix]``) over kept-alive
    connections."""

    def __init__(self, address: str) -> None:
        parts = urlsplit(address)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) address: {address!r}")
        self._base = address.rstrip("/")
        self._urls: dict[str, URL] = {}
        # made in the running loop on the first call (a connector belongs to its loop)
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    def _url(self, path: str) -> URL:
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = URL(self._base + path, encoded=True)
        return url

    def _open(self) -> aiohttp.ClientSession:
        if self._closed:
            raise NodeWireError("the client is closed")
        connector = aiohttp.TCPConnector(
            limit=CONNECTIONS, limit_per_host=0, keepalive_timeout=IDLE_SECONDS
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            trust_env=False,
            auto_decompress=False,
            skip_auto_headers=_SKIPPED,
            timeout=aiohttp.ClientTimeout(total=None),
        )
        return self._session

    async def request(
        self,
        method: str,
        path: str,
        headers: Sequence[tuple[str, str]],
        body: bytes | None = None,
    ) -> Answer:
        session = self._session or self._open()
        async with session.request(
            method, self._url(path), headers=dict(headers), data=body, allow_redirects=False
        ) as response:
            return Answer(response.status, await response.read(), response.headers)

    async def aclose(self) -> None:
        self._closed = True
        if self._session is not None:
            await self._session.close()
