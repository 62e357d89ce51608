"""Which failures make a node "unavailable" (a partial result) and which are bugs; a
call bounded by its time."""

import asyncio
from types import SimpleNamespace
from typing import cast

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, ProgrammingError

from resolvers.breakers import BreakerState, NodeBreakers
from resolvers.fanout import NodeUnavailable, _unavailable, guarded
from resolvers.registry import Node


class PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        self.sqlstate = sqlstate


def test_connection_failures_mean_unavailable() -> None:
    assert _unavailable(OperationalError("connect", {}, Exception("unable to open")))
    assert _unavailable(ConnectionRefusedError())
    assert _unavailable(TimeoutError())
    assert _unavailable(DBAPIError("connect", {}, PgError("3D000")))  # no such database
    assert _unavailable(DBAPIError("q", {}, PgError("57P01")))  # admin shutdown
    assert _unavailable(DBAPIError("q", {}, PgError("08006")))  # connection failure


def test_bugs_are_not_hidden_as_unavailable_nodes() -> None:
    assert not _unavailable(ProgrammingError("select nope", {}, PgError("42P01")))
    assert not _unavailable(IntegrityError("insert", {}, PgError("23505")))
    assert not _unavailable(ValueError("bug"))


async def test_a_call_over_its_time_is_an_unavailable_node_and_its_breaker_counts_it() -> None:
    """The bound is kept in the caller's task (``asyncio.timeout``): a call that does
    not answer in time is cancelled, reported as an unavailable node, and its breaker
    counts the failure; a call within its time answers."""
    breakers = NodeBreakers(failures=1, open_seconds=60)
    node = cast(Node, SimpleNamespace(id="county-slow", name="county-slow"))
    cancelled: list[bool] = []

    async def slow() -> str:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        return "late"

    async def quick() -> str:
        return "answer"

    assert await guarded(breakers, node, quick, 5.0) == "answer"
    with pytest.raises(NodeUnavailable) as raised:
        await guarded(breakers, node, slow, 0.01)
    assert isinstance(raised.value.cause, TimeoutError)
    assert cancelled == [True]
    assert await breakers.state("county-slow") is BreakerState.OPEN
