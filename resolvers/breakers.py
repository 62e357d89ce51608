"""A circuit breaker per node (purgatory), around every call of the fan-out and
the relay: after ``failures`` calls in a row that found the node unreachable, calls fail
fast for ``open_seconds`` — no pool checkout, no timeout to wait out — and then one
call finds out whether the node is back.

Only failures that mean "the node is not answering" count (``unreachable``); a bug or
a refused input is not the node's fault and leaves the breaker alone."""

from __future__ import annotations

import enum
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from purgatory import AsyncCircuitBreakerFactory
from purgatory.domain.model import OpenedState
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from levels.common.errors import DomainError, ErrorCode

# SQLSTATE classes of a database that cannot serve: connection exception, insufficient
# resources (53300 too many connections), operator intervention (57P03 cannot connect
# now, shutdown), no such database
_UNAVAILABLE_SQLSTATES = ("08", "53", "57P", "3D000")
# 55000 (object not in prerequisite state) means "down" only while connecting (no
# statement yet): the database refuses connections (ALLOW_CONNECTIONS false); from a
# statement it is a bug to see
_REFUSING = "55000"


class BreakerOpen(Exception):
    """The node's breaker is open: the call was not made."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"{name}: circuit breaker open")


def unreachable(exc: BaseException) -> bool:
    """Failures that mean "this node is not answering", as opposed to a bug."""
    if isinstance(exc, BreakerOpen | OperationalError | InterfaceError | OSError | TimeoutError):
        return True
    if isinstance(exc, DomainError):
        # a node API that did not answer, could not be reached or refused the hub's token
        return exc.code is ErrorCode.NODE_UNAVAILABLE
    if not isinstance(exc, DBAPIError):
        return False
    sqlstate = getattr(exc.orig, "sqlstate", None) or ""
    refusing = sqlstate == _REFUSING and exc.statement is None
    return exc.connection_invalidated or refusing or sqlstate.startswith(_UNAVAILABLE_SQLSTATES)


class BreakerState(enum.Enum):
    CLOSED = "closed"  # calls go through
    OPEN = "open"  # calls fail fast
    HALF_OPEN = "half-open"  # the next call finds out whether the node is back


class NodeBreakers:
    """One breaker per node name, kept in this process."""

    def __init__(self, *, failures: int = 5, open_seconds: float = 30.0) -> None:
        self.failures = failures
        self.open_seconds = open_seconds
        self._factory = AsyncCircuitBreakerFactory(
            default_threshold=failures,
            default_ttl=open_seconds,
            # purgatory counts what is not excluded: exclude all but unreachable nodes
            exclude=[(BaseException, lambda exc: not unreachable(exc))],
        )

    @asynccontextmanager
    async def guard(self, name: str) -> AsyncIterator[None]:
        """Run the block as a call to node ``name``; raise ``BreakerOpen`` at once
        while its breaker is open."""
        breaker = await self._factory.get_breaker(name)
        try:
            await breaker.__aenter__()
        except OpenedState as exc:
            # purgatory raises the same exception object each time: drop its traceback
            exc.with_traceback(None)
            raise BreakerOpen(name) from None
        try:
            yield
        except BaseException as exc:
            await breaker.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        await breaker.__aexit__(None, None, None)

    async def state(self, name: str) -> BreakerState:
        breaker = await self._factory.get_breaker(name)
        context = breaker.context
        if context.state == "opened":
            opened_at = context.opened_at or 0.0
            if time.time() <= opened_at + context.ttl:
                return BreakerState.OPEN
            return BreakerState.HALF_OPEN
        if context.state == "half-opened":
            return BreakerState.HALF_OPEN
        return BreakerState.CLOSED
