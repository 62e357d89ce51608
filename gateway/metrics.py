"""Prometheus metrics of one app instance (its own registry, so several apps in one
process — tests, benchmarks — never collide).

Every label has a bounded set of values: the routes the app serves, the level nodes,
error classes, and operation names from ``OperationNames`` (the schema's root fields,
then the first ``limit`` other names seen; any name after that is counted as
``other``, so clients inventing names cannot make a series each)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Tracer
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Receive, Scope, Send

from resolvers.node_calls import node_metrics_var

# bounded label values: the route templates the app serves, nothing taken from clients
ROUTES = {"/graphql", "/health/live", "/health/ready", "/metrics"}
OTHER = "other"
ANONYMOUS = "anonymous"
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")
# GraphQL operations and node calls are faster than whole HTTP requests
_FAST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class OperationNames:
    """Operation name → label value, with at most ``len(known) + limit + 2`` values."""

    def __init__(self, known: Iterable[str] = (), limit: int = 100) -> None:
        self.known = set(known)
        self.limit = limit
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        self.seeded = False

    def seed(self, names: Iterable[str]) -> None:
        self.known.update(names)
        self.seeded = True

    def label(self, name: str | None) -> str:
        if not name:
            return ANONYMOUS
        if name in self.known or name in self._seen:
            return name
        if not _NAME.fullmatch(name):
            return OTHER
        with self._lock:
            if len(self._seen) < self.limit:
                self._seen.add(name)
                return name
        return OTHER


@dataclass
class Metrics:
    registry: CollectorRegistry
    requests: Counter
    latency: Histogram
    operations: Counter
    operation_errors: Counter
    operation_latency: Histogram
    node_calls: Counter
    node_errors: Counter
    node_latency: Histogram
    relay_backlog: Gauge
    oldest_pending: Gauge
    timers_due: Gauge
    store_stats_up: Gauge
    operation_names: OperationNames = field(default_factory=OperationNames)
    tracer: Tracer = field(default_factory=trace.NoOpTracer)
    # the labelled child of each (metric, label values) counted so far: a request counts
    # in six series or more, and ``labels`` checks and converts its values on every call
    _children: dict[tuple[int, tuple[str, ...]], Any] = field(default_factory=dict)

    def child(self, metric: Any, *values: str) -> Any:
        """``metric.labels(*values)``, made once per label values (all bounded)."""
        key = (id(metric), values)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*values)
        return found

    @classmethod
    def create(cls, *, tracer: Tracer | None = None, operation_names: int = 100) -> Metrics:
        r = CollectorRegistry()
        return cls(
            r,
            Counter("govhub_http_requests", "HTTP requests", ["route", "status"], registry=r),
            Histogram("govhub_http_request_seconds", "HTTP latency", ["route"], registry=r),
            Counter(
                "govhub_graphql_operations",
                "GraphQL operations, by operation name and type",
                ["operation", "type"],
                registry=r,
            ),
            Counter(
                "govhub_graphql_errors",
                "GraphQL operations with errors, by class: auth, domain (typed), "
                "validation, unexpected (untyped: a bug)",
                ["operation", "kind"],
                registry=r,
            ),
            Histogram(
                "govhub_graphql_operation_seconds",
                "GraphQL operation latency",
                ["operation", "type"],
                buckets=_FAST_BUCKETS,
                registry=r,
            ),
            Counter("govhub_node_calls", "Calls to a level node", ["node"], registry=r),
            Counter(
                "govhub_node_errors",
                "Calls to a level node that failed (timeouts, open breakers, errors)",
                ["node"],
                registry=r,
            ),
            Histogram(
                "govhub_node_call_seconds",
                "Latency of calls to a level node",
                ["node"],
                buckets=_FAST_BUCKETS,
                registry=r,
            ),
            Gauge(
                "govhub_relay_backlog",
                "Outbox messages of a node by state: not yet sent (PENDING), sent without a"
                " receipt yet (SENT), incidents (FAILED)",
                ["node", "state"],
                registry=r,
            ),
            Gauge(
                "govhub_messages_oldest_pending_seconds",
                "Age of a node's oldest outbox message still PENDING or SENT (0: none)",
                ["node"],
                registry=r,
            ),
            Gauge(
                "govhub_timers_due",
                "Case timers of a node that are due but not fired yet",
                ["node"],
                registry=r,
            ),
            Gauge(
                "govhub_store_stats_up",
                "1 when the node answered the last backlog/timer count, else 0",
                ["node"],
                registry=r,
            ),
            OperationNames(limit=operation_names),
            tracer or trace.NoOpTracer(),
        )

    def observe_operation(
        self, name: str | None, kind: str, seconds: float, errors: list[str]
    ) -> None:
        label = self.operation_names.label(name)
        self.child(self.operations, label, kind).inc()
        self.child(self.operation_latency, label, kind).observe(seconds)
        for error in errors:
            self.child(self.operation_errors, label, error).inc()

    def observe_node(self, node: str, seconds: float, error: str | None) -> None:
        self.child(self.node_calls, node).inc()
        self.child(self.node_latency, node).observe(seconds)
        if error is not None:
            self.child(self.node_errors, node).inc()


# the app serving the current request (set by MetricsMiddleware): where node calls and
# operations are counted and traced
metrics_var: ContextVar[Metrics | None] = ContextVar("govhub_metrics", default=None)


class MetricsMiddleware:
    """Counts and times HTTP requests per route, and makes this app's ``Metrics`` the
    current ones for the request (operations and node calls are counted there)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        token = metrics_var.set(self.metrics)
        node_token = node_metrics_var.set(self.metrics)
        try:
            if scope["type"] == "websocket":
                await self.app(scope, receive, send)
            else:
                await self._http(scope, receive, send)
        finally:
            node_metrics_var.reset(node_token)
            metrics_var.reset(token)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = scope["path"] if scope["path"] in ROUTES else "other"
        status = 500
        start = time.perf_counter()

        async def send_wrapper(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            metrics = self.metrics
            metrics.child(metrics.requests, route, str(status)).inc()
            metrics.child(metrics.latency, route).observe(time.perf_counter() - start)
