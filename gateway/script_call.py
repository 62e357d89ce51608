"""One Lua script run on a few Redis connections of its own: the admission's
``EVALSHA`` without redis-py's per-command client path.

redis-py sends a command through ``Redis.execute_command``: the pool's lock and
bookkeeping to lend a connection and a readiness check on it, the retry wrapper, the
command packed argument by argument, the response callbacks, its observability hooks,
the connection given back — measured at ~600 Python calls and 130–200 µs of CPU for one
admission round trip against a server that answers in a few µs. ``ScriptCall`` keeps the
connections it made (redis-py's own ``Connection`` objects, from the client's pool
settings: the same address, database, credentials, time-out and handshake, made and
connected by redis-py), packs the command itself with a pre-encoded head, writes it to
the connection's stream and reads the one-line integer reply (``:<n>``) the admission's
script answers, under the connection's socket time-out.

The failure behaviour stays redis-py's: a connection that fails (closed by the server,
a time-out, an interrupted call) is dropped, and the call is made again through the
registered script (``AsyncScript``) — the client's retries and back-off, and, for
``NOSCRIPT`` (Redis restarted or flushed its scripts), the script loaded and sent again.
Any other error reply is raised as ``ResponseError`` with Redis's message, and the
connection kept (an error reply is one line). A reply that is not an integer (the
script answers only integers) drops the connection and goes through redis-py too."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError


def _encoded(value: Any) -> bytes:
    """A value as redis-py's ``Encoder`` writes it (bytes, str, int, float)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, bool):
        raise TypeError("a boolean is no Redis value")
    if isinstance(value, int):
        return b"%d" % value
    if isinstance(value, float):
        return repr(value).encode()
    raise TypeError(f"cannot send {type(value).__name__} to Redis")


class ScriptCall:
    """``await call(keys, args)``: the script's integer reply, as
    ``int(await script(keys, args))``."""

    def __init__(self, script: Any) -> None:
        self.script = script  # redis-py's AsyncScript: its text, SHA and client
        self.pool = script.registered_client.connection_pool
        self._head = b"$7\r\nEVALSHA\r\n$%d\r\n%s\r\n" % (len(script.sha), script.sha.encode())
        self._idle: list[AbstractConnection] = []
        self._made: list[AbstractConnection] = []

    def pack(self, keys: Sequence[Any], args: Sequence[Any]) -> bytes:
        parts = [b"*%d\r\n" % (3 + len(keys) + len(args)), self._head]
        for value in (len(keys), *keys, *args):
            data = _encoded(value)
            parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
        return b"".join(parts)

    def _connection(self) -> AbstractConnection:
        if self._idle:
            return self._idle.pop()
        conn: AbstractConnection = self.pool.make_connection()
        self._made.append(conn)
        return conn

    def send(self, conn: AbstractConnection, packed: bytes) -> None:
        """The command into the connection's buffer (a few hundred bytes: no flow
        control to wait for)."""
        writer = conn._writer
        assert writer is not None  # connected
        writer.write(packed)

    async def __call__(self, keys: Sequence[Any], args: Sequence[Any]) -> int:
        packed = self.pack(keys, args)
        conn = self._connection()
        try:
            if not conn.is_connected:
                await conn.connect()  # the pool's handshake (AUTH, SELECT, HELLO)
            # one time-out for the command and its reply: the connection's socket_timeout
            async with asyncio.timeout(conn.socket_timeout):
                self.send(conn, packed)
                reader = conn._reader
                assert reader is not None  # connected
                line: bytes = await reader.readline()
        except (RedisConnectionError, RedisTimeoutError, OSError, TimeoutError):
            await self._drop(conn)
            return int(await self.script(keys, args))
        except BaseException:
            # cancelled between the command and its reply: the reply would be read by
            # the next call on this connection
            await self._drop(conn)
            raise
        kind = line[:1]
        if kind == b":" and line[-2:] == b"\r\n":
            self._idle.append(conn)
            return int(line[1:-2])
        if kind == b"-" and line[-2:] == b"\r\n":
            # an error reply is one line: the connection is clean
            self._idle.append(conn)
            if line.startswith(b"-NOSCRIPT"):
                return int(await self.script(keys, args))
            raise ResponseError(line[1:-2].decode(errors="replace"))
        # closed before a whole reply (b"" at EOF), or a reply that is not an integer:
        # the connection is dropped and the call made through redis-py's path
        await self._drop(conn)
        return int(await self.script(keys, args))

    async def _drop(self, conn: AbstractConnection) -> None:
        self._made.remove(conn)
        await conn.disconnect(nowait=True)

    async def aclose(self) -> None:
        """Close every connection this call made."""
        made, self._made, self._idle = self._made, [], []
        for conn in made:
            await conn.disconnect()
