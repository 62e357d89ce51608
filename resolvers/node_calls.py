"""Counting, timing and tracing each call of the hub to a node. The metrics of the
running app are made current by the gateway (``gateway/metrics.py``); without them a
call is not observed."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Protocol

from opentelemetry.trace import NoOpTracer, Status, StatusCode, Tracer


class NodeCallMetrics(Protocol):
    tracer: Tracer

    def observe_node(self, node: str, seconds: float, error: str | None) -> None: ...


node_metrics_var: ContextVar[NodeCallMetrics | None] = ContextVar(
    "govhub_node_metrics", default=None
)


@asynccontextmanager
async def node_call(node: str) -> AsyncIterator[None]:
    """Count, time and trace one call to a node (its outcome: ok or error)."""
    metrics = node_metrics_var.get()
    if metrics is None:
        yield
        return
    start = time.perf_counter()
    if isinstance(metrics.tracer, NoOpTracer):
        # no spans configured (the default): counted and timed only, without the
        # tracing context a no-op span would still attach and detach
        try:
            yield
        except BaseException as exc:
            metrics.observe_node(node, time.perf_counter() - start, type(exc).__name__)
            raise
        metrics.observe_node(node, time.perf_counter() - start, None)
        return
    with metrics.tracer.start_as_current_span(
        "govhub.node", attributes={"govhub.node.id": node, "govhub.node.level": node}
    ) as span:
        try:
            yield
        except BaseException as exc:
            metrics.observe_node(node, time.perf_counter() - start, type(exc).__name__)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise
        metrics.observe_node(node, time.perf_counter() - start, None)
