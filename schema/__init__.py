"""The GraphQL schema of GovHub."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig

from auth.permissions import guard_schema
from gateway.context import WebSocketOperations
from gateway.idempotency import Idempotency
from gateway.limits import ProdErrors
from gateway.observability import OperationObserver
from schema.cases import CaseType
from schema.divisions import Department, Division, ServiceOrg, Window
from schema.errors import CloseSessions, ErrorFormatting, GovHubSchema, is_expected
from schema.execution import ReadyLeavesExecutionContext, mark_ready_leaves
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


def build_schema(
    *,
    prod: bool = False,
    limits: Sequence[Callable[[], SchemaExtension]] = (),
    batch_max: int = 0,
) -> strawberry.Schema:
    # operation hooks unwind in reverse order: errors are formatted (typed codes
    # attached, partial-result errors added) before masking;
    # stream-result hooks run in list order, so streamed results are formatted first
    extensions: list[Any] = [WebSocketOperations, CloseSessions, StreamErrorFormatting]
    if prod:
        # unexpected errors masked with the request id of their log line, and no
        # "Did you mean …" that would spell out the schema
        extensions.append(lambda: ProdErrors(should_mask_error=lambda e: not is_expected(e)))
    # counted and traced with the typed codes ErrorFormatting attaches, before masking
    extensions.append(OperationObserver)
    extensions.append(ErrorFormatting)
    # limits (gateway/limits.py) last: their codes are attached before the others unwind
    extensions.extend(limits)
    # idempotent retries last: an operation refused by the checks above takes no key
    extensions.append(Idempotency)
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
    return schema


def export_sdl() -> str:
    return build_schema().as_str() + "\n"
