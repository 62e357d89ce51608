"""The bench's load driver (bench/driver.py), run as ``make bench`` runs it: in a process
of its own, against a tiny app served here. Every answer that is not a clean 200 — an
HTTP error, or a GraphQL answer with ``errors`` (a partial one with NODE_UNAVAILABLE
included) — is a failure, and only clean answers are timed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from bench.driver import GRAPHQL, STATUS, Call, Driver, Plan
from bench.runtime import LoopThread, Served

OK = {"data": {"division": {"name": "榆次区"}}}
PARTIAL = {
    "data": {"cases": None},
    "errors": [{"message": "暂不可用", "extensions": {"code": "NODE_UNAVAILABLE"}}],
}
# a mutation's payload may name a field "errors": only a top-level one is a failure
PAYLOAD_ERRORS = {"data": {"acceptCase": {"case": None, "errors": []}}}


def _app() -> Starlette:
    async def graphql(request: Request) -> Response:
        kind = orjson.loads(await request.body())["kind"]
        if kind == "boom":
            return PlainTextResponse("Internal Server Error", status_code=500)
        body = orjson.dumps({"ok": OK, "partial": PARTIAL, "payload": PAYLOAD_ERRORS}[kind])
        if kind == "payload":

            async def chunks() -> AsyncIterator[bytes]:
                yield body[:7]
                yield body[7:]

            # no Content-Length: a chunked answer
            return StreamingResponse(chunks(), media_type="application/json")
        return Response(body, media_type="application/json")

    async def live(_request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["POST"]),
            Route("/health/live", live),
        ]
    )


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    thread = LoopThread("driver-test")
    server = Served(thread, _app())
    try:
        yield server.base_url
    finally:
        server.stop()
        thread.close()


@pytest.fixture(scope="module")
def driver() -> Iterator[Driver]:
    with Driver() as running:
        yield running


def _call(kind: str) -> Call:
    body = orjson.dumps({"kind": kind})
    return Call("/graphql", body, (("Content-Type", "application/json"),))


CALLS = tuple(_call(k) for k in ("ok", "partial", "boom", "payload"))


def _plan(base_url: str, judge: str, **kwargs: object) -> Plan:
    options: dict[str, object] = {"warmup": 0.0, "max_requests": 40} | kwargs
    return Plan(base_url, CALLS, 3, 60.0, judge, **options)  # type: ignore[arg-type]


def test_partial_answers_and_http_errors_are_failures(served: str, driver: Driver) -> None:
    outcome = driver.run(_plan(served, GRAPHQL))
    assert outcome.requests == 40
    # round-robin over ok, partial (NODE_UNAVAILABLE), HTTP 500 and a payload's own
    # "errors" field: the middle two of every four fail
    assert outcome.failures == 20
    assert len(outcome.latencies) == 20
    assert any("NODE_UNAVAILABLE" in s for s in outcome.samples)
    assert any("HTTP 500" in s for s in outcome.samples)


def test_a_status_judge_fails_only_http_errors(served: str, driver: Driver) -> None:
    outcome = driver.run(_plan(served, STATUS))
    assert (outcome.requests, outcome.failures) == (40, 10)


def test_each_prepared_call_is_sent_once(served: str, driver: Driver) -> None:
    outcome = driver.run(_plan(served, GRAPHQL, once=True))
    assert (outcome.requests, outcome.failures) == (4, 2)
