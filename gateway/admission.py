"""Admission: the checks a request passes in the shared store before it runs — the
per-address limit, the session denylist, the per-client limit and the cost budget —
asked of Redis in ONE round trip.

``limits`` has no call that batches checks, so the hub registers one Lua script built
from ``limits``' own scripts (its Redis storage's ``acquire_moving_window`` and
``acquire_sliding_window``, wrapped as Lua functions, text unchanged) and runs the
request's checks in it in order, stopping at the first refusal: the same keys, windows
and arithmetic as ``MovingWindowRateLimiter.hit`` / ``SlidingWindowCounterRateLimiter
.hit``, and nothing counted after a refusal, exactly as when each was its own call. Only
a refusal asks again (``get_window_stats``, for ``Retry-After``). Without Redis
(``MemoryStorage``) each check is its own in-process call, in the same order.

A GraphQL request over HTTP gathers its checks while it goes (``Pending`` in the ASGI
scope: the address in the request gate (``gateway/gate.py``), the session in the token
backend, the client in ``ClientRateLimit``) and sends them once its cost is known, right
before it runs (``OperationLimits.on_execute``), or when its response starts if it never
gets that far (a request error, a replayed idempotent response). A refusal then answers
as each check did alone: 429 ``RATE_LIMITED`` with ``Retry-After``, 401 ``UNAUTHENTICATED`` for a
revoked session, ``COST_BUDGET_EXCEEDED`` for the budget. Every other request asks at
once, one round trip, as before.

The keys of one script must live on one Redis node: this is for a single Redis (or a
primary with replicas), as ``rate_limit_storage`` configures it, not Redis Cluster."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from limits import RateLimitItem
from limits.aio.storage import RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter, SlidingWindowCounterRateLimiter
from starlette.authentication import AuthenticationError
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import Scope
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionContext

from auth.backend import TokenBackend, on_auth_error
from auth.identity import Identity, denylist_key
from auth.kv import KeyValue
from auth.viewer import Viewer
from gateway.script_call import ScriptCall

SCOPE_KEY = "govhub.admission"


@dataclass(frozen=True)
class Window:
    """One request in a moving window (``MovingWindowRateLimiter``)."""

    item: RateLimitItem
    namespace: str
    key: str


@dataclass(frozen=True)
class Revoked:
    """The session is on the denylist."""

    session_id: str


@dataclass(frozen=True)
class Budget:
    """``cost`` spent in a sliding-window counter (``SlidingWindowCounterRateLimiter``)."""

    item: RateLimitItem
    client: str
    cost: int


Check = Window | Revoked | Budget


@dataclass(frozen=True)
class Refusal:
    check: Check
    # seconds until the check would pass; 0 for a revoked session
    retry_after: int


def _seconds_until(reset_time: float) -> int:
    return max(1, int(reset_time - time.time()) + 1)


# limits' scripts read KEYS and ARGV and return true/false: as the bodies of Lua
# functions taking (KEYS, ARGV) they run unchanged on the arguments given to each
_COMPOSED = """
local function moving_window(KEYS, ARGV)
{moving}
end
local function sliding_window(KEYS, ARGV)
{sliding}
end
local k, a = 1, 1
for i = 1, tonumber(ARGV[1]) do
  a = a + 1
  local kind = ARGV[a]
  if kind == 'revoked' then
    if redis.call('exists', KEYS[k]) == 1 then return i end
    k = k + 1
  elseif kind == 'window' then
    if not moving_window({{KEYS[k]}}, {{ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4]}}) then
      return i
    end
    k, a = k + 1, a + 4
  else
    if not sliding_window({{KEYS[k], KEYS[k + 1]}}, {{ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]}}) then
      return i
    end
    k, a = k + 2, a + 3
  end
end
return 0
"""


def _text(script: str | bytes) -> str:
    return script.decode() if isinstance(script, bytes) else script


class Checker:
    """Runs a request's checks in order; the first refusal, or None."""

    def __init__(self, storage: Storage, kv: KeyValue, kv_prefix: str) -> None:
        self.storage = storage
        self.kv = kv
        self.kv_prefix = kv_prefix
        self._windows = MovingWindowRateLimiter(storage)
        self._counters = SlidingWindowCounterRateLimiter(storage)
        self._script: Any = None
        if isinstance(storage, RedisStorage):
            bridge = storage.bridge
            text = _COMPOSED.format(
                moving=_text(bridge.SCRIPT_ACQUIRE_MOVING_WINDOW),
                sliding=_text(bridge.SCRIPT_ACQUIRE_SLIDING_WINDOW),
            )
            # the bridge's own client (redis-py): EVALSHA, the text loaded once if missing;
            # sent on connections of the call's own, redis-py's client path on a failure
            self._script = ScriptCall(bridge.get_connection().register_script(text))  # type: ignore[attr-defined]

    async def run(self, checks: Sequence[Check]) -> Refusal | None:
        if not checks:
            return None
        if self._script is None:
            for check in checks:
                if not await self._one(check):
                    return await self._refusal(check)
            return None
        refused = int(await self._script(*self._arguments(checks)))
        return await self._refusal(checks[refused - 1]) if refused else None

    async def aclose(self) -> None:
        """Close the connections the round trip made (the storage's client is the
        storage's)."""
        if self._script is not None:
            await self._script.aclose()

    def _arguments(self, checks: Sequence[Check]) -> tuple[list[str], list[Any]]:
        assert isinstance(self.storage, RedisStorage)
        storage = self.storage
        prefixed = storage.bridge.prefixed_key
        keys: list[str] = []
        args: list[Any] = [len(checks)]
        now = time.time()
        for check in checks:
            if isinstance(check, Revoked):
                keys.append(self.kv_prefix + denylist_key(check.session_id))
                args.append("revoked")
            elif isinstance(check, Window):
                item = check.item
                keys.append(prefixed(item.key_for(check.namespace, check.key)))
                args += ["window", now, item.amount, item.get_expiry(), 1]
            else:
                key = check.item.key_for("cost", check.client)
                keys += [
                    prefixed(storage._previous_window_key(key)),
                    prefixed(storage._current_window_key(key)),
                ]
                args += ["budget", check.item.amount, check.item.get_expiry(), check.cost]
        return keys, args

    async def _one(self, check: Check) -> bool:
        if isinstance(check, Revoked):
            return not await self.kv.get(denylist_key(check.session_id))
        if isinstance(check, Window):
            return await self._windows.hit(check.item, check.namespace, check.key)
        return await self._counters.hit(check.item, "cost", check.client, cost=check.cost)

    async def _refusal(self, check: Check) -> Refusal:
        if isinstance(check, Revoked):
            return Refusal(check, 0)
        if isinstance(check, Window):
            stats = await self._windows.get_window_stats(check.item, check.namespace, check.key)
        else:
            stats = await self._counters.get_window_stats(check.item, "cost", check.client)
        return Refusal(check, _seconds_until(stats.reset_time))


@dataclass
class Pending:
    """One GraphQL request's checks, gathered until it is about to run."""

    checker: Checker
    checks: list[Check] = field(default_factory=list)
    settled: bool = False
    refusal: Refusal | None = None

    def add(self, check: Check) -> None:
        self.checks.append(check)

    async def settle(self, last: Check | None = None) -> Refusal | None:
        """Run the gathered checks (and ``last``) once; later calls answer the same."""
        if not self.settled:
            self.settled = True
            if last is not None:
                self.checks.append(last)
            self.refusal = await self.checker.run(self.checks)
        return self.refusal


def pending_of(scope: Scope | None) -> Pending | None:
    """The request's gathered checks, if it gathers them (not yet sent)."""
    pending = scope.get(SCOPE_KEY) if scope is not None else None
    return pending if isinstance(pending, Pending) and not pending.settled else None


def refused(execution: ExecutionContext) -> None:
    """The operation does not run: its request was refused (a rate limit, a revoked
    session), and the request gate (``gateway/gate.py``) answers the refusal instead."""
    error = GraphQLError("refused", extensions={"code": "REFUSED"})
    execution.result = GraphQLExecutionResult(data=None, errors=[error])


class Admit(SchemaExtension):
    """Right before an operation runs: the request's gathered checks, if no limit has
    sent them with its cost (a document the limits do not price still waits for them)."""

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        request = getattr(execution.context, "request", None)
        pending = pending_of(getattr(request, "scope", None))
        if pending is not None and not execution.result and await pending.settle():
            refused(execution)
        yield


# what answers instead of the response, or None to let the response through (the cost
# budget: the GraphQL answer itself says COST_BUDGET_EXCEEDED)
RefusalResponse = Callable[[HTTPConnection, Refusal], Response | None]


class AdmittedTokenBackend(TokenBackend):
    """The token backend that adds the denylist look-up to the request's gathered
    checks, when it gathers them, instead of asking Redis on its own."""

    def __init__(self, identity: Identity) -> None:
        super().__init__(identity)

    async def revoked(self, conn: HTTPConnection, viewer: Viewer) -> bool:
        pending = pending_of(conn.scope)
        if pending is None or not viewer.session_id:
            return await super().revoked(conn, viewer)
        pending.add(Revoked(viewer.session_id))
        return False


def unauthenticated(conn: HTTPConnection) -> Response:
    """What a revoked session's request answers (as the token backend's refusal)."""
    return on_auth_error(conn, AuthenticationError("session revoked"))
