"""What the hub tells its operators about each request: a request id, spans, and the
context of log lines.

* ``RequestIdMiddleware`` (outermost): takes a sane ``X-Request-Id`` or makes one, puts
  it in ``request.state.request_id`` and in a contextvar, and returns it on every
  response — errors and the WebSocket handshake included.
* ``OperationObserver`` (a schema extension): one span, one metrics sample and the log
  context (operation name, viewer subject) per GraphQL operation.
* ``node_call(level)``: one span and one metrics sample per call to a level node (the
  hook of ``resolvers/fanout.call_node``).

Spans go through an OpenTelemetry tracer of the app's own (``tracer_for(settings)``:
none, console or OTLP over HTTP); metrics to the app's ``Metrics`` (gateway/metrics.py).
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from graphql import GraphQLError, OperationDefinitionNode, parse
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode, Tracer
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from auth.errors import AuthErrorCode
from gateway.metrics import metrics_var
from levels.common.errors import ErrorCode
from resolvers.node_calls import node_call as node_call

if TYPE_CHECKING:
    from gateway.settings import Settings

log = logging.getLogger("govhub.observability")

HEADER = "x-request-id"
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

request_id_var: ContextVar[str | None] = ContextVar("govhub_request_id", default=None)
operation_var: ContextVar[str | None] = ContextVar("govhub_operation", default=None)
viewer_var: ContextVar[str | None] = ContextVar("govhub_viewer", default=None)


def current_request_id() -> str | None:
    return request_id_var.get()


def sane_request_id(value: str | None) -> str | None:
    """A client's request id when it is safe to log and echo: at most 64 characters of
    ``[A-Za-z0-9._-]``."""
    if value and _SANE_ID.fullmatch(value):
        return value
    return None


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope.get("headers", []) if k == HEADER.encode()), b"")
        request_id = sane_request_id(given.decode("latin-1")) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        header = (HEADER.encode(), request_id.encode())
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            kind = message["type"]
            if kind in ("http.response.start", "websocket.http.response.start"):
                started = True
                message["headers"] = [
                    *((k, v) for k, v in message.get("headers", []) if k.lower() != header[0]),
                    header,
                ]
            elif kind == "websocket.accept":
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        token = request_id_var.set(request_id)
        names = operation_var.set(None), viewer_var.set(None)
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # the full error goes to the log with the id the client gets; the client
            # sees no trace of it
            log.exception("unhandled error in %s %s", scope["type"], scope.get("path"))
            if scope["type"] != "http" or started:
                raise
            body = orjson.dumps(
                {"errors": [{"message": "internal error"}], "requestId": request_id}
            )
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [(b"content-type", b"application/json"), header],
                }
            )
            await send({"type": "http.response.body", "body": body})
        finally:
            request_id_var.reset(token)
            operation_var.reset(names[0])
            viewer_var.reset(names[1])


# --- tracing ---------------------------------------------------------------------------


def tracer_for(settings: Settings) -> Tracer:
    """The app's tracer: a no-op one unless ``GOVHUB_OTEL_EXPORTER`` asks for spans
    (``console``; ``otlp``: OTLP over HTTP, configured by the standard
    ``OTEL_EXPORTER_OTLP_*`` variables)."""
    exporter = settings.otel_exporter
    if exporter == "none":
        return trace.NoOpTracer()
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    provider = TracerProvider(resource=Resource.create({"service.name": "govhub"}))
    if exporter == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    else:
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    return provider.get_tracer("govhub")


def document_hash(query: str | None) -> str:
    """What a span says of the document: its SHA-256, never its text or variables."""
    return hashlib.sha256((query or "").encode()).hexdigest()


# --- GraphQL operations ----------------------------------------------------------------

_AUTH_CODES = {c.value for c in AuthErrorCode}
_REQUEST_CODES = {
    c.value
    for c in (
        ErrorCode.GRAPHQL_PARSE_FAILED,
        ErrorCode.GRAPHQL_VALIDATION_FAILED,
        ErrorCode.BAD_USER_INPUT,
    )
}


def error_kind(error: GraphQLError) -> str:
    """The class of an error, for metrics: ``auth``, ``domain`` (any other typed code),
    ``validation`` (the document or variables, refused before execution) or
    ``unexpected`` (an untyped error in a resolver: a bug)."""
    code = (error.extensions or {}).get("code")
    if code in _AUTH_CODES:
        return "auth"
    if code in _REQUEST_CODES:
        return "validation"
    if code is not None:
        return "domain"
    if error.original_error is None:
        return "validation"
    return "unexpected"


def root_field_names(schema: Any) -> set[str]:
    """The names of the schema's root fields: operations named after the field they
    ask (``query cases { cases … }``) always get a label of their own."""
    graphql_schema = getattr(schema, "_schema", schema)
    roots = (
        graphql_schema.query_type,
        graphql_schema.mutation_type,
        graphql_schema.subscription_type,
    )
    return {name for root in roots if root is not None for name in root.fields}


def manifest_operation_names(path: Path | None) -> set[str]:
    """The operation names of the trusted documents the front-ends ship."""
    from gateway.persisted import load_manifest

    names = set()
    for document in load_manifest(path).values():
        try:
            parsed = parse(document)
        except GraphQLError:
            continue
        names |= {
            d.name.value
            for d in parsed.definitions
            if isinstance(d, OperationDefinitionNode) and d.name is not None
        }
    return names


class OperationObserver(SchemaExtension):
    """Counts, times and traces each operation. Registered just before
    ``ErrorFormatting``, so it sees the errors with their codes, before masking."""

    def on_operation(self) -> Iterator[None]:
        metrics = metrics_var.get()
        execution = self.execution_context
        viewer = getattr(getattr(execution.context, "viewer", None), "subject", None)
        # kept for the rest of the request (RequestIdMiddleware clears them): the masking
        # of errors, which unwinds after this hook, logs under the same names
        viewer_var.set(viewer or None)
        operation_var.set(execution.operation_name)
        span = None
        span_token = None
        if metrics is not None:
            if not metrics.operation_names.seeded:
                settings = getattr(execution.context, "settings", None)
                manifest = getattr(settings, "persisted_manifest", None)
                metrics.operation_names.seed(
                    root_field_names(execution.schema) | manifest_operation_names(manifest)
                )
            if not isinstance(metrics.tracer, trace.NoOpTracer):
                span = metrics.tracer.start_span("graphql.operation")
                span_token = otel_context.attach(trace.set_span_in_context(span))
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            name = execution.operation_name
            try:
                kind = execution.operation_type.value
            except Exception:
                # no document (it did not parse, or none was sent)
                kind = "unknown"
            # the result's errors, formatted (a typed code on each); the raw ones only when
            # there is no result, which would count every typed refusal as unexpected
            result = execution.result
            errors = list(
                (result.errors if result is not None else execution.pre_execution_errors) or []
            )
            kinds = sorted({error_kind(e) for e in errors})
            if metrics is not None:
                metrics.observe_operation(name, kind, elapsed, kinds)
            if span is not None:
                span.update_name(f"{kind} {name}" if name else kind)
                span.set_attribute("graphql.operation.name", name or "")
                span.set_attribute("graphql.operation.type", kind)
                span.set_attribute("graphql.document.hash", document_hash(execution.query))
                if "unexpected" in kinds:
                    span.set_status(Status(StatusCode.ERROR))
                span.end()
            if span_token is not None:
                otel_context.detach(span_token)

    def on_execute(self) -> Iterator[None]:
        # the document is parsed now: log lines of the execution name their operation
        operation_var.set(self.execution_context.operation_name)
        yield


# --- logs ------------------------------------------------------------------------------

# what never goes to a log line, whoever wrote the message: bearer tokens, JWTs,
# 18-character resident ID numbers, passwords in key=value form
_SECRETS = [
    (re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/=-]+"), "Bearer [redacted]"),
    (re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), "[jwt]"),
    (re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9A-Za-z])"), "[id number]"),
    (
        re.compile(r"(?i)(password|passwd|secret)([\"']?\s*[:=]\s*[\"']?)[^\s,;&\"'}]+"),
        r"\1\2[redacted]",
    ),
]


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RequestContextFilter(logging.Filter):
    """Puts the request id, operation name and viewer subject on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.operation = operation_var.get()
        record.viewer = viewer_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "request_id": getattr(record, "request_id", None),
            "operation": getattr(record, "operation", None),
            "viewer": getattr(record, "viewer", None),
        }
        if record.exc_info:
            entry["exc_info"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(entry).decode()

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + (
            f".{int(record.msecs):03d}Z"
        )


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def log_format(settings: Settings) -> str:
    return settings.log_format or ("text" if settings.is_dev else "json")


def configure_logging(settings: Settings, stream: Any = None) -> logging.Handler:
    """The root handler of ``govhub serve`` (uvicorn's loggers propagate to it)."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(JsonFormatter() if log_format(settings) == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
        # a level an earlier uvicorn.Config left (log_level="warning") would drop its lines
        logging.getLogger(name).setLevel(logging.NOTSET)
    return handler
