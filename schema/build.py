"""The GraphQL schema of GovHub, assembled: ``build_schema`` and the SDL it exports."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig

from auth.permissions import guard_schema
from resolvers.context import own_context
from schema.cases import CaseType
from schema.divisions import Department, Division, ServiceOrg, Window
from schema.errors import ErrorFormatting, GovHubSchema
from schema.execution import ReadyLeavesExecutionContext, mark_ready_leaves, mark_ready_lists
from schema.matters import Delegation, Matter, MatterImplementation
from schema.mutation import Mutation
from schema.query import Query
from schema.scalars import SCALARS
from schema.subscription import StreamErrorFormatting, Subscription

NODE_TYPES = [
    Division,
    ServiceOrg,
    Department,
    Window,
    Matter,
    MatterImplementation,
    Delegation,
    CaseType,
]


# a schema extension as Strawberry takes it: its class, or a factory of one
Extension = Callable[[], SchemaExtension]


class OperationScope(SchemaExtension):
    """The first three steps of every operation, in one extension (they were three in a
    row, in this order): the operation's own context over a WebSocket and no
    subscription over HTTP (``own_context``), its node sessions given back when it ends,
    whatever it ended with, and typed errors on each result of a stream
    (``StreamErrorFormatting``)."""

    async def on_operation(self) -> AsyncIterator[None]:
        execution = self.execution_context
        own_context(execution)
        try:
            yield
        finally:
            sessions = getattr(execution.context, "sessions", None)
            if sessions is not None:
                await sessions.close()

    on_stream_result = StreamErrorFormatting.on_stream_result


def build_schema(
    *,
    observers: Sequence[Extension] = (),
    limits: Sequence[Extension] = (),
    batch_max: int = 0,
) -> strawberry.Schema:
    """The schema with its own operation hooks, and those of the entry point that serves
    it (``gateway/app.py``): ``observers`` see each operation's errors with their typed
    codes before they are formatted for the client (masking, metrics, traces);
    ``limits`` come last, so their codes are attached before the others unwind
    (document limits, cost budget, idempotent retries)."""
    # operation hooks unwind in reverse order: errors are formatted (typed codes
    # attached, partial-result errors added) before the observers see them;
    # stream-result hooks run in list order, so streamed results are formatted first
    extensions: list[Any] = [
        OperationScope,
        *observers,
        ErrorFormatting,
        *limits,
    ]
    schema = GovHubSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=NODE_TYPES,
        extensions=extensions,
        execution_context_class=ReadyLeavesExecutionContext,
        config=StrawberryConfig(
            auto_camel_case=True,
            # one convention for every instant: ISO 8601 at +08:00 (schema/scalars.py)
            scalar_map=SCALARS,
            # a JSON array of operations: refused unless GOVHUB_BATCH_MAX allows it
            batching_config={"max_operations": batch_max} if batch_max > 0 else None,
        ),
    )
    guard_schema(schema)
    mark_ready_leaves(schema)
    mark_ready_lists(schema)
    return schema


def export_sdl() -> str:
    return build_schema().as_str() + "\n"
