"""The hub's HTTP/1.1 to one node over the network: kept-alive connections on asyncio's
own transports, each request written as one buffer, each answer read by httptools
(the parser uvicorn serves the node with).

``httpx.AsyncClient`` cost the hub about 0.7 ms of CPU per call to a node — its
request and URL models, header validation, h11, anyio's stream layers, and the
request's head and body sent in two writes (two packets the node reads apart). A node
call is always the same: a ``POST`` of JSON or a ``GET`` to one origin, an answer with
a length. This sends the head and body as one write with the headers the node reads
(``Host``, ``Authorization``, ``Content-Type``, ``Content-Length``), and reads the
answer's status and body.

* A connection is reused once its answer is read in full and neither side said
  ``Connection: close``; one idle longer than ``IDLE_SECONDS`` (under uvicorn's
  keep-alive of 5 s, which closes it then) is closed instead of reused. At most
  ``CONNECTIONS`` are open at once (the calls beyond wait for one), ``IDLE`` kept idle.
* A call cut short (its caller's timeout, a cancellation) closes its connection: an
  answer that may still come is never read as the next call's.
* No proxy from the environment, no redirects, no compression: a node is reached at
  the address in the node map, as it answers.

What fails is ``NodeWireError`` or the ``OSError`` of the socket (refused, reset …):
the client's "not reachable"."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Sequence
from typing import Any, cast
from urllib.parse import urlsplit

import httptools
import httpx
import orjson

IDLE_SECONDS = 4.0
CONNECTIONS = 100
IDLE = 20


class NodeWireError(Exception):
    """A node's answer that is not HTTP/1.1 as read here (or none at all)."""


class Answer:
    """A node's answer: its status and its body."""

    __slots__ = ("content", "status_code")

    def __init__(self, status_code: int, content: bytes) -> None:
        self.status_code = status_code
        self.content = content

    def json(self) -> Any:
        return orjson.loads(self.content)


class _Connection(asyncio.Protocol):
    """One kept-alive connection: one exchange at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.open = True
        self.idle_since = 0.0
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[Answer] | None = None
        self._body: list[bytes] = []
        self._close = False
        self._headers_done = False
        self._delimited = False  # a length or chunks: the end is in the message

    # asyncio's side
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports (the hub's loop under uvicorn) are not asyncio.Transport's
        # subclasses, but have its methods
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self._waiter is None:  # nothing asked: a node speaking out of turn
            self.close()
            return
        try:
            self._parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
            self._fail(NodeWireError(f"not HTTP/1.1: {exc}"))

    def eof_received(self) -> bool:
        return False  # the transport closes; connection_lost says what it means

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if self._headers_done and not self._delimited:
            self._finish()  # an answer that ends where the connection does
            return
        reason = exc if exc is not None else ConnectionResetError("closed before the answer")
        waiter.set_exception(reason)

    # httptools' side
    def on_header(self, name: bytes, value: bytes) -> None:
        lowered = name.lower()
        if lowered in (b"content-length", b"transfer-encoding"):
            self._delimited = True
        elif lowered == b"connection" and value.lower() == b"close":
            self._close = True

    def on_headers_complete(self) -> None:
        self._headers_done = True

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        self._finish()

    # the exchange
    def _finish(self) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        status = self._parser.get_status_code()
        if not self._parser.should_keep_alive() or not self._delimited:
            self._close = True
        waiter.set_result(Answer(status, b"".join(self._body)))

    def _fail(self, exc: Exception) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc)
        self.close()

    async def exchange(self, request: bytes) -> tuple[Answer, bool]:
        """The answer to ``request``, and whether the connection may be used again."""
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        self._waiter = loop.create_future()
        self._body = []
        self._close = False
        self._headers_done = False
        self._delimited = False
        self.transport.write(request)
        try:
            answer = await self._waiter
        finally:
            self._waiter = None
        return answer, self.open and not self._close

    def close(self) -> None:
        self.open = False
        if self.transport is not None:
            self.transport.close()


class NodeWire:
    """Calls to one origin (``http(s)://host[:port][/prefix]``) over kept-alive
    connections."""

    def __init__(self, address: str) -> None:
        parts = urlsplit(address)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) address: {address!r}")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self._ssl: ssl.SSLContext | None = (
            httpx.create_ssl_context() if parts.scheme == "https" else None
        )
        default = (parts.scheme, self.port) in (("http", 80), ("https", 443))
        netloc = self.host if ":" not in self.host else f"[{self.host}]"
        self._host_header = (netloc if default else f"{netloc}:{self.port}").encode("idna")
        self._prefix = parts.path.rstrip("/").encode()
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(CONNECTIONS)
        self._closed = False

    def encode(
        self, method: str, path: str, headers: Sequence[tuple[bytes, bytes]], body: bytes | None
    ) -> bytes:
        """The request, head and body, as the one buffer written."""
        head = [method.encode(), b" ", self._prefix, path.encode(), b" HTTP/1.1\r\nHost: "]
        head.append(self._host_header)
        for name, value in headers:
            head += (b"\r\n", name, b": ", value)
        if body is not None:
            head += (b"\r\nContent-Length: ", str(len(body)).encode())
        head.append(b"\r\n\r\n")
        if body is not None:
            head.append(body)
        return b"".join(head)

    async def request(
        self,
        method: str,
        path: str,
        headers: Sequence[tuple[bytes, bytes]],
        body: bytes | None = None,
    ) -> Answer:
        request = self.encode(method, path, headers, body)
        async with self._slots:
            connection = self._reusable() or await self._connect()
            try:
                answer, again = await connection.exchange(request)
            except BaseException:
                connection.close()
                raise
            if again and not self._closed and len(self._idle) < IDLE:
                connection.idle_since = time.monotonic()
                self._idle.append(connection)
            else:
                connection.close()
            return answer

    def _reusable(self) -> _Connection | None:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()
            if connection.open and now - connection.idle_since < IDLE_SECONDS:
                return connection
            connection.close()
        return None

    async def _connect(self) -> _Connection:
        if self._closed:
            raise NodeWireError("the client is closed")
        loop = asyncio.get_running_loop()
        _, connection = await loop.create_connection(
            _Connection,
            self.host,
            self.port,
            ssl=self._ssl,
            server_hostname=self.host if self._ssl is not None else None,
        )
        return connection

    async def aclose(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
