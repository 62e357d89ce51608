"""What operators see: the request id on every response and log line, JSON logs without
secrets, per-operation and per-node metrics with bounded labels, the relay backlog and
timers due, health, and OpenTelemetry spans (an operation, a child per node call)."""

from __future__ import annotations

import io
import logging
import random
import re
import string
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from click.testing import CliRunner
from httpx_ws import aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.app import create_app
from gateway.cli import main
from gateway.metrics import ANONYMOUS, OTHER, Metrics
from gateway.nodes import NodeRegistry
from gateway.observability import (
    JsonFormatter,
    RequestContextFilter,
    RequestIdMiddleware,
    configure_logging,
    document_hash,
    log_format,
    manifest_operation_names,
    redact,
)
from gateway.persisted import sha256_of
from gateway.settings import Mode, Settings
from levels.cases.models import CaseTimer
from levels.common.clock import FixedClock
from levels.common.enums import LEVELS
from levels.outbox.models import MessageState, OutboxMessage
from tests.auth.conftest import bearer, signed_in
from tests.conftest import DEMO_NOW, GraphQLClient, client_transport
from tests.gateway.test_node_failure import village_down  # noqa: F401  (a fixture)

HEX32 = re.compile(r"[0-9a-f]{32}")
DIVISIONS = "query cityDivisions { divisions(first: 100) { edges { node { level } } } }"
BAD_DIVISION = 'query lookUp { division(code: "1") { name } }'
UNKNOWN_FIELD = "query typo { nosuchfield }"
ID_NUMBER = "14070219900101123X"


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples of one metric family: labels → value."""
    for family in text_string_to_metric_families(text):
        if family.name == name:
            return {tuple(sorted(s.labels.items())): s.value for s in family.samples}
    return {}


def value(text: str, sample: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == sample and s.labels == labels:
                return s.value
    return 0.0


# --- request id ------------------------------------------------------------------------


async def test_every_response_gets_a_request_id(http: httpx.AsyncClient) -> None:
    live = await http.get("/health/live")
    assert HEX32.fullmatch(live.headers["x-request-id"])
    again = await http.get("/health/live")
    assert again.headers["x-request-id"] != live.headers["x-request-id"]
    # errors too: a body that is no GraphQL request, a token the hub refuses, no route
    unparsable = await http.post(
        "/graphql", content=b"{", headers={"content-type": "application/json"}
    )
    refused = await http.post("/graphql", json={"query": "{ me { id } }"}, headers=bearer("nope"))
    missing = await http.get("/no/such/page")
    assert unparsable.status_code == 400 and refused.status_code == 401
    assert missing.status_code == 404
    for response in (unparsable, refused, missing):
        assert HEX32.fullmatch(response.headers["x-request-id"]), response


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("web-7f3a.2025_11", True),
        ("a" * 64, True),
        ("a" * 65, False),
        ("two words", False),
        ("<script>", False),
        ("id\u00e9", False),
    ],
)
async def test_a_sane_client_request_id_is_kept_else_replaced(
    http: httpx.AsyncClient, given: str, kept: bool
) -> None:
    response = await http.get("/health/live", headers=[(b"x-request-id", given.encode("utf-8"))])
    returned = response.headers["x-request-id"]
    assert (returned == given) is kept
    if not kept:
        assert HEX32.fullmatch(returned)


async def test_handlers_read_the_id_and_an_unhandled_error_is_a_clean_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def echo(request: Request) -> JSONResponse:
        return JSONResponse({"id": request.state.request_id})

    async def crash(_request: Request) -> JSONResponse:
        raise RuntimeError("secret detail")

    app = Starlette(
        routes=[Route("/echo", echo), Route("/crash", crash)],
        middleware=[Middleware(RequestIdMiddleware)],
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        echoed = await client.get("/echo", headers={"x-request-id": "abc-1"})
        with caplog.at_level(logging.ERROR, logger="govhub.observability"):
            crashed = await client.get("/crash")
    assert echoed.json() == {"id": "abc-1"} and echoed.headers["x-request-id"] == "abc-1"
    assert crashed.status_code == 500 and "secret" not in crashed.text
    request_id = crashed.headers["x-request-id"]
    assert crashed.json()["requestId"] == request_id
    (record,) = [r for r in caplog.records if r.name == "govhub.observability"]
    assert record.exc_info is not None


async def test_the_websocket_handshake_returns_the_request_id(app: Any) -> None:
    async with (
        ASGIWebSocketTransport(app) as transport,
        httpx.AsyncClient(transport=transport, base_url="http://govhub.test") as client,
        aconnect_ws(
            "/graphql",
            client,
            subprotocols=["graphql-transport-ws"],
            headers={"x-request-id": "ws-handshake-1"},
        ) as ws,
    ):
        assert ws.response is not None
        assert ws.response.headers["x-request-id"] == "ws-handshake-1"


# --- logs ------------------------------------------------------------------------------


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What the hub's loggers write, as ``govhub serve --`` in prod writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("govhub")
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


async def test_a_log_line_is_json_with_request_id_operation_and_viewer_and_no_secrets(
    settings: Settings,
    nodes: NodeRegistry,
    gql: GraphQLClient,
    json_log: io.StringIO,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = (await signed_in(gql, "resident1"))["accessToken"]

    async def broken(**_kwargs: object) -> None:
        raise RuntimeError(f"failed for Bearer {token} of {ID_NUMBER} password=govhub-demo-2026")

    monkeypatch.setattr("levels.city.service.search_matters", broken)
    prod = create_app(settings.model_copy(update={"mode": Mode.PROD}), nodes=nodes)
    async with httpx.AsyncClient(
        transport=client_transport(prod), base_url="http://govhub.test"
    ) as client:
        response = await client.post(
            "/graphql",
            json={"query": "query findMatters { matters { edges { cursor } } }"},
            headers=bearer(token),
        )
    assert response.json()["errors"][0]["message"] == "内部错误"
    lines = [orjson.loads(line) for line in json_log.getvalue().splitlines()]
    entries = [e for e in lines if e["logger"] == "govhub.errors"]
    for entry in entries:
        assert entry["level"] == "ERROR"
        assert entry["request_id"] == response.headers["x-request-id"]
        assert entry["operation"] == "findMatters"
        assert entry["viewer"] and entry["viewer"] != "resident1"  # the account id
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["time"])
    assert any("RuntimeError" in e.get("exc_info", "") for e in entries)
    text = json_log.getvalue()
    assert token not in text and ID_NUMBER not in text and "govhub-demo-2026" not in text


async def test_typed_refusals_are_info_lines_and_an_error_line_means_a_bug(
    gql: GraphQLClient, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO)
    await gql.post(BAD_DIVISION)  # a domain error
    await gql.post(UNKNOWN_FIELD)  # the document does not validate
    await gql.post("query mine { outboxMessages(first: 1) { edges { cursor } } }")  # auth
    await gql.post("query($n: Int!) { divisions(first: $n) { edges { cursor } } }", {"n": "x"})
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    refused = [r for r in caplog.records if r.name == "govhub.refusals"]
    assert len(refused) == 4 and not any(r.exc_info for r in refused)
    said = " ".join(r.getMessage() for r in refused)
    for code in ("INVALID_DIVISION_CODE", "GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT"):
        assert code in said

    # the control: a bug is one ERROR line, with its traceback
    caplog.clear()

    async def broken(**_kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("levels.city.service.search_matters", broken)
    await gql.post("query findMatters { matters { edges { cursor } } }")
    (bug,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert bug.name == "govhub.errors" and bug.exc_info and "a bug" in str(bug.exc_info[1])


def test_redaction_keeps_the_rest_of_the_message() -> None:
    assert redact(f"id {ID_NUMBER} ok") == "id [id number] ok"
    assert redact("Authorization: Bearer abc.def-ghi") == "Authorization: Bearer [redacted]"
    assert (
        redact('{"password": "hunter2", "user": "x"}') == '{"password": "[redacted]", "user": "x"}'
    )
    # case numbers (27 characters) and division codes are not ID numbers
    assert redact("case 140702000000-20261120-0001 of 140702000000") == (
        "case 140702000000-20261120-0001 of 140702000000"
    )


def test_log_format_is_json_in_prod_text_in_dev_unless_set(settings: Settings) -> None:
    prod = settings.model_copy(update={"mode": Mode.PROD})
    assert log_format(prod) == "json"
    assert log_format(settings.model_copy(update={"mode": Mode.DEV})) == "text"
    assert log_format(prod.model_copy(update={"log_format": "text"})) == "text"
    with pytest.raises(ValueError):
        Settings(log_format="xml")


def test_serve_logs_one_json_object_per_line(settings: Settings) -> None:
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    stream = io.StringIO()
    try:
        configure_logging(settings.model_copy(update={"mode": Mode.PROD}), stream)
        logging.getLogger("uvicorn.error").info("Started server process")
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("govhub.test").exception("it failed")
    finally:
        for h in list(root.handlers):
            root.removeHandler(h)
        for h in before:
            root.addHandler(h)
        root.setLevel(level)
    first, second = (orjson.loads(line) for line in stream.getvalue().splitlines())
    assert first["logger"] == "uvicorn.error" and first["message"] == "Started server process"
    assert first["request_id"] is None
    assert second["level"] == "ERROR" and "ValueError: boom" in second["exc_info"]


# --- metrics ---------------------------------------------------------------------------


async def test_operations_are_counted_by_name_type_and_error_class(
    http: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    await gql.post(DIVISIONS)
    await gql.post(BAD_DIVISION)
    await gql.post(UNKNOWN_FIELD)
    await gql.post("query mine { outboxMessages(first: 1) { edges { cursor } } }")
    await gql.post("{ divisions(first: 1) { totalCount } }")
    text = (await http.get("/metrics")).text
    ops = "govhub_graphql_operations_total"
    assert value(text, ops, operation="cityDivisions", type="query") >= 1
    assert value(text, ops, operation=ANONYMOUS, type="query") >= 1
    errors = "govhub_graphql_errors_total"
    assert value(text, errors, operation="lookUp", kind="domain") >= 1
    # a typed refusal is never also counted as a bug
    assert value(text, errors, operation="lookUp", kind="unexpected") == 0
    assert value(text, errors, operation="typo", kind="validation") >= 1
    assert value(text, errors, operation="mine", kind="auth") >= 1
    assert value(text, errors, operation="cityDivisions", kind="unexpected") == 0
    count = "govhub_graphql_operation_seconds_count"
    assert value(text, count, operation="cityDivisions", type="query") >= 1
    # the fan-out asked every level node
    for level in LEVELS:
        assert value(text, "govhub_node_calls_total", node=level.value.lower()) >= 1, level
        assert value(text, "govhub_node_call_seconds_count", node=level.value.lower()) >= 1


def test_ten_thousand_invented_operation_names_make_a_bounded_number_of_series() -> None:
    metrics = Metrics.create(operation_names=50)
    metrics.operation_names.seed({"divisions", "matters"})
    rng = random.Random(8)
    for _ in range(10_000):
        name = rng.choice(string.ascii_letters) + "".join(
            rng.choices(string.ascii_letters + string.digits, k=12)
        )
        metrics.observe_operation(name, "query", 0.001, ["validation"])
    metrics.observe_operation("divisions", "query", 0.001, [])
    metrics.observe_operation("not a name!", "query", 0.001, [])
    metrics.observe_operation(None, "query", 0.001, [])
    labels = {
        s.labels["operation"]
        for family in metrics.registry.collect()
        if family.name == "govhub_graphql_operations"
        for s in family.samples
    }
    assert len(labels) == 50 + 3  # the first 50 invented, divisions, other, anonymous
    assert {"divisions", OTHER, ANONYMOUS} <= labels
    errors = {
        s.labels["operation"]
        for family in metrics.registry.collect()
        if family.name == "govhub_graphql_errors"
        for s in family.samples
    }
    assert len(errors) == 51


async def _direct_counts(nodes: NodeRegistry) -> dict[str, tuple[int, int, int]]:
    counts = {}
    for node in nodes:
        async with node.sessions() as s:
            pending = await s.scalar(
                select(func.count()).where(OutboxMessage.state == MessageState.PENDING)
            )
            failed = await s.scalar(
                select(func.count()).where(OutboxMessage.state == MessageState.FAILED)
            )
            due = await s.scalar(
                select(func.count()).where(
                    CaseTimer.fired_at.is_(None),
                    CaseTimer.cancelled_at.is_(None),
                    CaseTimer.due_at <= DEMO_NOW,
                )
            )
        counts[node.name] = (pending or 0, failed or 0, due or 0)
    return counts


async def test_metrics_show_the_relay_backlog_and_timers_due_of_every_node(
    http: httpx.AsyncClient, nodes: NodeRegistry
) -> None:
    text = (await http.get("/metrics")).text
    expected = await _direct_counts(nodes)
    for node, (pending, failed, due) in expected.items():
        assert value(text, "govhub_store_stats_up", node=node) == 1
        assert value(text, "govhub_relay_backlog", node=node, state="PENDING") == pending
        assert value(text, "govhub_relay_backlog", node=node, state="FAILED") == failed
        assert value(text, "govhub_timers_due", node=node) == due
    assert samples(text, "govhub_relay_backlog")  # present, zero or not


async def test_a_dead_store_never_hangs_metrics_and_readiness_names_it(
    village_down: httpx.AsyncClient,  # noqa: F811
) -> None:
    metrics = await village_down.get("/metrics")
    assert metrics.status_code == 200
    assert value(metrics.text, "govhub_store_stats_up", node="village") == 0
    assert value(metrics.text, "govhub_store_stats_up", node="town") == 1
    assert ("node", "village") not in {k[0] for k in samples(metrics.text, "govhub_timers_due")}
    ready = await village_down.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["nodes"]["village"] == "down"
    assert (await village_down.get("/health/live")).json() == {"status": "ok"}


async def test_health_live_and_ready_when_every_store_answers(http: httpx.AsyncClient) -> None:
    live = await http.get("/health/live")
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    ready = await http.get("/health/ready")
    assert ready.status_code == 200
    body = ready.json()
    assert body["ready"] is True and all(body["stores"].values())
    assert set(body["nodes"].values()) == {"up"} and len(body["nodes"]) == 4


# --- spans -----------------------------------------------------------------------------


@pytest.fixture
async def traced(
    settings: Settings, nodes: NodeRegistry, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[httpx.AsyncClient, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr("gateway.app.tracer_for", lambda _s: provider.get_tracer("test"))
    app = create_app(settings, nodes=nodes, clock=clock)
    async with httpx.AsyncClient(
        transport=client_transport(app), base_url="http://govhub.test"
    ) as client:
        yield client, exporter
    await app.state.broker.close()
    await app.state.identity.close()
    provider.shutdown()


async def test_one_operation_span_with_a_child_span_per_node(
    traced: tuple[httpx.AsyncClient, InMemorySpanExporter],
) -> None:
    client, exporter = traced
    response = await client.post(
        "/graphql", json={"query": DIVISIONS, "variables": {"secret": "s3cr3t-value"}}
    )
    assert response.status_code == 200
    spans = exporter.get_finished_spans()
    (operation,) = [s for s in spans if s.name.startswith("query")]
    assert operation.name == "query cityDivisions"
    attributes = dict(operation.attributes or {})
    assert attributes["graphql.operation.name"] == "cityDivisions"
    assert attributes["graphql.operation.type"] == "query"
    assert attributes["graphql.document.hash"] == document_hash(DIVISIONS)
    assert "s3cr3t-value" not in repr([dict(s.attributes or {}) for s in spans])
    children = [s for s in spans if s.name == "govhub.node"]
    assert operation.context is not None
    assert all(
        c.parent is not None and c.parent.span_id == operation.context.span_id for c in children
    )
    assert sorted(dict(c.attributes or {})["govhub.node.level"] for c in children) == sorted(
        lv.value.lower() for lv in LEVELS
    )
    assert {c.context.trace_id for c in children if c.context} == {operation.context.trace_id}


def test_no_exporter_by_default() -> None:
    assert Settings().otel_exporter == "none"


def test_the_operation_names_of_the_trusted_documents_are_known(tmp_path: Path) -> None:
    documents = [
        "query cityDivisions { divisions(first: 100) { edges { node { level } } } }",
        "query { matters { edges { cursor } } }",
        'mutation signIn { logout(input: {refreshToken: "x"}) { errors { code } } }',
    ]
    manifest = tmp_path / "trusted.json"
    manifest.write_bytes(orjson.dumps({sha256_of(d): d for d in documents}))
    assert manifest_operation_names(manifest) == {"cityDivisions", "signIn"}
    assert manifest_operation_names(None) == set()
    metrics = Metrics.create(operation_names=0)
    metrics.operation_names.seed(manifest_operation_names(manifest))
    assert metrics.operation_names.label("signIn") == "signIn"
    assert metrics.operation_names.label("somethingElse") == OTHER


def test_govhub_serve_logs_json_in_prod(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    served: dict[str, Any] = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: served.update(kwargs))
    monkeypatch.setattr("gateway.app.create_app", lambda settings: object())
    monkeypatch.setenv("GOVHUB_MODE", "prod")
    monkeypatch.setenv("GOVHUB_VAR_DIR", str(tmp_path))
    # serve refuses prod without a secret, and stores 'govhub init' has not migrated
    monkeypatch.setenv("GOVHUB_SECRET_KEY", "observability-test-secret")
    assert CliRunner().invoke(main, ["init"]).exit_code == 0
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    try:
        result = CliRunner().invoke(main, ["serve", "--port", "8123"])
        assert result.exit_code == 0, result.output
        (handler,) = root.handlers
        assert isinstance(handler.formatter, JsonFormatter)
    finally:
        for h in list(root.handlers):
            root.removeHandler(h)
        for h in before:
            root.addHandler(h)
        root.setLevel(level)
    # uvicorn keeps its hands off logging: its lines go through the JSON handler
    assert served["log_config"] is None and served["port"] == 8123
