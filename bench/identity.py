"""What verifying a bearer token costs a request.

Over HTTP, the table has the same cheap query anonymous and with a bearer token. Here,
in-process: ``await app.state.identity.authenticate(token)`` (what the authentication
middleware runs once per request) timed call after call on the loop that serves the
hub, and its two parts timed alone: the EdDSA JWT verification and the session
denylist lookup (the in-process stand-in for Redis on SQLite, a Redis GET on
PostgreSQL)."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from auth.identity import AUDIENCE, Identity, denylist_key
from auth.kv import RedisKeyValue
from auth.tokens import decode_access_token
from bench.measure import Result, Timing, drive
from bench.report import grid
from bench.runtime import LoopThread
from bench.scenarios import BEARER_USER, DIVISION, DIVISION_BEARER

CALLS = 3000
WARMUP = 200


@dataclass(frozen=True)
class AuthCost:
    backend: str
    denylist: str  # where the denylist lives
    authenticate: Timing  # Identity.authenticate(token)
    verify: Timing  # decode_access_token alone: signature, claims, key ring
    lookup: Timing  # the denylist GET alone


async def _time(call: Callable[[], Awaitable[Any]]) -> Timing:
    return await drive(call, warmup=WARMUP, requests=CALLS, max_seconds=60.0, concurrency=1)


async def authenticate_cost(
    backend: str, identity: Identity, token: str, stores: LoopThread
) -> AuthCost:
    """Time ``identity.authenticate(token)`` on ``stores``' loop (which owns the hub's
    engines and Redis connections), one call at a time."""

    async def run() -> AuthCost:
        viewer = await identity.authenticate(token)  # refused tokens raise here
        assert viewer.session_id is not None
        key = denylist_key(viewer.session_id)

        async def verify() -> Any:
            return await decode_access_token(
                token,
                keys=identity.keys,
                issuer=identity.settings.issuer,
                audience=AUDIENCE,
                now=identity.clock.now(),
            )

        async def lookup() -> str | None:
            return await identity.kv.get(key)

        async def authenticate() -> Any:
            return await identity.authenticate(token)

        where = "Redis GET" if isinstance(identity.kv, RedisKeyValue) else "in-process dict"
        return AuthCost(
            backend, where, await _time(authenticate), await _time(verify), await _time(lookup)
        )

    return await stores.run_async(run())


def _us(timing: Timing, q: int) -> str:
    return f"{timing.percentile_ms(q) * 1000:.1f}"


def _http_delta(results: Sequence[Result], backend: str) -> str:
    p50 = {r.scenario.name: r.hub.p50_ms for r in results if r.backend == backend}
    anonymous, bearer = p50.get(DIVISION.name), p50.get(DIVISION_BEARER.name)
    if anonymous is None or bearer is None or math.isnan(anonymous):
        return "-"
    return f"{bearer - anonymous:+.2f}"


HEADERS = (
    "backend",
    "denylist",
    "calls",
    "authenticate p50 µs",
    "p99 µs",
    "JWT verify p50 µs",
    "denylist GET p50 µs",
    "HTTP bearer − anonymous p50 ms",
)


def section(costs: Sequence[AuthCost], results: Sequence[Result]) -> str:
    """The token verification section printed under the table."""
    if not costs:
        return "Token verification: not measured."
    rows = [
        (
            c.backend,
            c.denylist,
            str(c.authenticate.requests),
            _us(c.authenticate, 50),
            _us(c.authenticate, 99),
            _us(c.verify, 50),
            _us(c.lookup, 50),
            _http_delta(results, c.backend),
        )
        for c in costs
    ]
    intro = (
        f"Token verification per request: `await app.state.identity.authenticate(token)` "
        f"in-process on the hub's loop, {CALLS} calls one at a time after {WARMUP} warm-up "
        f"ones, with a {BEARER_USER} access token from a login over HTTP; its parts timed "
        "alone the same way (the JWT verification, `decode_access_token`, and the "
        "denylist lookup); and the HTTP p50 of "
        f"{DIVISION_BEARER.name!r} minus that of {DIVISION.name!r}."
    )
    return intro + "\n\n" + grid(HEADERS, rows, {0, 1})
