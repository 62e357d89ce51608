"""The hub's HTTP/1.1 to a node (``resolvers/node_wire.py``, aiohttp): connections kept
alive and reused, never reused after ``Connection: close``, a call cut short, or the node
closing it; answers by length, by chunks or up to the close; a refused port, a node that
hangs up and what is not HTTP: the client's "not reachable"."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from auth.hub_tokens import HubKey, HubTokenSigner
from levels.common.errors import DomainError, ErrorCode
from resolvers import node_wire
from resolvers.node_wire import NodeWire, NodeWireError
from resolvers.nodeclient import NodeClient

Reply = Callable[[int, bytes], bytes | None]


def ok(body: bytes, *extra: str) -> bytes:
    head = "".join(f"{line}\r\n" for line in extra)
    return f"HTTP/1.1 200 OK\r\ncontent-length: {len(body)}\r\n{head}\r\n".encode() + body


class Node:
    """A node's socket: each request (head and body) read and answered by ``reply``
    (the number of the request on its connection, the request), None: the connection
    closed without an answer; ``delay`` before the answer (or its rest)."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.connections = 0
        self.requests: list[bytes] = []
        self.delay = 0.0
        self.close_after = False
        self.split = 0  # > 0: the answer's first bytes sent, the rest after the delay

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        seen = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                seen += 1
                answer = self.reply(seen, request)
                if self.split and answer is not None:
                    writer.write(answer[: self.split])
                    await writer.drain()
                    answer = answer[self.split :]
                if self.delay:
                    await asyncio.sleep(self.delay)
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
                if self.close_after or b"connection: close" in answer:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def serving(reply: Reply) -> AsyncIterator[tuple[Node, str]]:
    node = Node(reply)
    server = await asyncio.start_server(node.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield node, f"http://127.0.0.1:{port}"
    finally:
        server.close()


def echo(number: int, request: bytes) -> bytes:
    return ok(request.split(b"\r\n\r\n", 1)[1] or b"-")


async def test_a_connection_is_kept_and_the_request_sent_with_its_headers() -> None:
    async with serving(echo) as (node, address):
        wire = NodeWire(address + "/prefix")
        headers = [("Authorization", "Bearer t"), ("Content-Type", "application/json")]
        first = await wire.request("POST", "/graphql", headers, b'{"a":1}')
        second = await wire.request("GET", "/health", [])
        await wire.aclose()
    assert (first.status_code, first.content, first.json()) == (200, b'{"a":1}', {"a": 1})
    assert second.content == b"-"
    assert node.connections == 1
    head = node.requests[0].lower().split(b"\r\n")
    assert head[0] == b"post /prefix/graphql http/1.1"
    port = address.rsplit(":", 1)[1]
    assert f"host: 127.0.0.1:{port}".encode() in head
    assert b"authorization: bearer t" in head and b"content-length: 7" in head
    assert not any(line.startswith(b"accept-encoding") for line in head)  # none undone here
    assert node.requests[1].startswith(b"GET /prefix/health HTTP/1.1\r\n")


async def test_connection_close_chunks_and_a_close_delimited_answer() -> None:
    def reply(number: int, request: bytes) -> bytes:
        if b"/close" in request:
            return ok(b"bye", "connection: close")
        if b"/chunks" in request:
            head = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
            return head + b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
        return b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\n\r\nall of it"

    async with serving(reply) as (node, address):
        wire = NodeWire(address)
        assert (await wire.request("GET", "/close", [])).content == b"bye"
        assert (await wire.request("GET", "/chunks", [])).content == b"abcde"
        assert (await wire.request("GET", "/chunks", [])).content == b"abcde"
        until_close = await wire.request("GET", "/other", [])
        await wire.aclose()
    assert (until_close.status_code, until_close.content) == (503, b"all of it")
    assert node.connections == 2  # a new one after the close; the chunked ones kept it


@pytest.mark.parametrize("started", [False, True], ids=["before-the-answer", "mid-body"])
async def test_a_call_cut_short_never_leaves_its_answer_to_the_next(started: bool) -> None:
    def reply(number: int, request: bytes) -> bytes:
        return ok(request.split(b" ")[1])

    async with serving(reply) as (node, address):
        wire = NodeWire(address)
        node.delay = 0.2
        if started:  # the head and part of the body sent, the rest after the call gave up
            node.split = len(ok(b"/late")) - 2
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.1 if started else 0.05):
                await wire.request("GET", "/late", [])
        node.delay = 0
        node.split = 0
        answer = await wire.request("GET", "/next", [])
        await asyncio.sleep(0.3)  # the late answer, had the connection been kept
        again = await wire.request("GET", "/again", [])
        await wire.aclose()
    assert (answer.content, again.content) == (b"/next", b"/again")
    assert node.connections == 2


async def test_a_connection_the_node_closed_is_not_reused() -> None:
    async with serving(echo) as (node, address):
        node.close_after = True  # the node hangs up after each answer (its keep-alive ended)
        wire = NodeWire(address)
        await wire.request("GET", "/a", [])
        await asyncio.sleep(0.05)
        assert (await wire.request("GET", "/b", [])).content == b"-"
        await asyncio.sleep(0.05)
        assert (await wire.request("GET", "/c", [])).content == b"-"
        await wire.aclose()
    assert node.connections == 3


async def test_a_connection_left_idle_past_the_keep_alive_is_not_reused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(node_wire, "IDLE_SECONDS", 0.05)  # read when the session is made
    async with serving(echo) as (node, address):
        wire = NodeWire(address)
        await wire.request("GET", "/a", [])
        await wire.request("GET", "/b", [])
        assert node.connections == 1
        await asyncio.sleep(0.2)  # past the keep-alive: closed, a new one for the next
        assert (await wire.request("GET", "/c", [])).content == b"-"
        await wire.aclose()
    assert node.connections == 2


def test_on_uvloop_as_the_hub_runs_under_uvicorn() -> None:
    import uvloop

    async def calls() -> tuple[bytes, bytes, int]:
        async with serving(echo) as (node, address):
            wire = NodeWire(address)
            first = await wire.request("POST", "/graphql", [], b"{}")
            second = await wire.request("POST", "/graphql", [], b"[]")
            await wire.aclose()
            return first.content, second.content, node.connections

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        assert runner.run(calls()) == (b"{}", b"[]", 1)


async def test_a_closed_connection_before_the_answer_and_what_is_not_http() -> None:
    async with serving(lambda n, request: None) as (_, address):
        wire = NodeWire(address)
        with pytest.raises(NodeWireError):
            await wire.request("GET", "/", [])
        await wire.aclose()
    async with serving(lambda n, request: b"SSH-2.0-OpenSSH\r\n\r\n") as (_, address):
        wire = NodeWire(address)
        with pytest.raises(NodeWireError):
            await wire.request("GET", "/", [])
        await wire.aclose()


def _refused_port() -> int:
    with socket.socket() as probe:  # bound, never listening: a connection is refused
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("node_is", ["hanging-up", "refusing", "silent", "not-http"])
async def test_the_hubs_client_says_the_node_is_unavailable(node_is: str) -> None:
    signer = HubTokenSigner(HubKey.generate())
    replies: dict[str, Reply] = {
        "hanging-up": lambda n, request: None,
        "not-http": lambda n, request: b"SSH-2.0-OpenSSH\r\n\r\n",
        "silent": echo,
    }
    async with serving(replies.get(node_is, echo)) as (node, address):
        if node_is == "refusing":
            address = f"http://127.0.0.1:{_refused_port()}"
        node.delay = 1.0 if node_is == "silent" else 0.0
        client = NodeClient.over_http("county", address, signer=signer, timeout=0.1)
        async with client:
            with pytest.raises(DomainError) as failed:
                await client.health()
    assert failed.value.code is ErrorCode.NODE_UNAVAILABLE
    detail = str(failed.value.detail)
    assert detail.startswith("node county: ")
    expected = "no answer within 0.1s" if node_is == "silent" else "not reachable"
    assert expected in detail, detail
