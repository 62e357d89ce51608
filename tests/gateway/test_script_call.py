"""The admission's script call on connections of its own: the same replies as redis-py's
registered script, one command per call, and redis-py's own path again whenever a
connection fails, the script is missing or a call is interrupted — never a reply read
by the wrong call."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ResponseError

from gateway.script_call import ScriptCall
from gateway.settings import Settings

# an integer from its key and arguments, as the admission's script answers one; a fresh
# comment per test makes a script Redis has not seen yet (NOSCRIPT on the first EVALSHA)
ECHO = """-- {tag}
if KEYS[1] ~= 'k:é' or ARGV[1] ~= 'wörd' or ARGV[2] ~= '1.25' then return -1 end
return tonumber(ARGV[3]) + 1"""


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[aioredis.Redis]:
    if not settings.redis_url:
        pytest.skip("Redis only (the in-process stand-in sends no command)")
    made = aioredis.from_url(settings.redis_url)
    yield made
    await made.aclose()


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    count = [0]
    original = AbstractConnection.send_packed_command
    own = ScriptCall.send

    async def counting(self: AbstractConnection, *args: Any, **kwargs: Any) -> None:
        count[0] += 1
        await original(self, *args, **kwargs)

    def counting_own(self: ScriptCall, *args: Any) -> None:
        count[0] += 1
        own(self, *args)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    monkeypatch.setattr(ScriptCall, "send", counting_own)
    yield count


def _script(client: aioredis.Redis) -> Any:
    return client.register_script(ECHO.format(tag=secrets.token_hex(8)))


async def test_replies_as_the_registered_script_one_command_a_call(
    client: aioredis.Redis, sent: list[int]
) -> None:
    script = _script(client)
    call = ScriptCall(script)
    # not loaded yet: NOSCRIPT, then redis-py's path loads it and sends it again
    assert (
        await call(["k:é"], ["wörd", 1.25, 41]) == 42 == await script(["k:é"], ["wörd", 1.25, 41])
    )
    # the hub's packing is redis-py's, byte for byte
    conn = client.connection_pool.make_connection()
    packed = conn.pack_command("EVALSHA", script.sha, 1, "k:é", "wörd", 1.25, 41, b"x")
    assert call.pack(["k:é"], ["wörd", 1.25, 41, b"x"]) == b"".join(packed)
    for n in range(3):
        before = sent[0]
        assert await call(["k:é"], ["wörd", 1.25, n]) == n + 1
        assert sent[0] - before == 1
    assert len(call._made) == 1
    await call.aclose()


async def test_a_connection_the_server_closed_is_dropped_and_the_call_answered(
    client: aioredis.Redis,
) -> None:
    call = ScriptCall(_script(client))
    await call(*_echo(1))
    (conn,) = call._made
    await client.execute_command("CLIENT", "KILL", "ID", str(await _client_id(conn)))
    assert await call(*_echo(2)) == 3
    assert conn not in call._made
    # and the next call is on a connection of its own again
    assert await call(*_echo(3)) == 4
    assert len(call._made) == 1
    await call.aclose()


def _echo(n: int) -> tuple[list[Any], list[Any]]:
    return ["k:é"], ["wörd", 1.25, n]


async def _client_id(conn: AbstractConnection) -> int:
    await conn.send_command("CLIENT", "ID")
    return int(await conn.read_response())


async def test_an_interrupted_call_leaves_no_reply_for_the_next(
    client: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    call = ScriptCall(_script(client))
    await call(*_echo(1))
    original = asyncio.StreamReader.readline
    interrupted = [False]

    async def cancelled(self: asyncio.StreamReader) -> bytes:
        if not interrupted[0]:
            interrupted[0] = True
            raise asyncio.CancelledError
        return await original(self)

    monkeypatch.setattr(asyncio.StreamReader, "readline", cancelled)
    with pytest.raises(asyncio.CancelledError):
        await call(*_echo(10))
    # the reply of the cancelled call (11) is never taken for this one's
    assert await call(*_echo(20)) == 21
    await call.aclose()


async def test_an_error_reply_is_raised_and_the_connection_kept(client: aioredis.Redis) -> None:
    call = ScriptCall(
        client.register_script(f"-- {secrets.token_hex(8)}\nreturn redis.error_reply('no')")
    )
    for _ in range(2):
        with pytest.raises(ResponseError):
            await call([], [])
    assert len(call._made) == 1
    await call.aclose()
    assert call._made == []
