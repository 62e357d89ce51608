"""The GraphQL schema of GovHub."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.extensions import MaskErrors
from strawberry.schema.config import StrawberryConfig

from auth.permissions import guard_schema
from gateway.context import WebSocketOperations
from gateway.observability import OperationObserver
from schema.cases import CaseType
from schema.divisions import Department, Division, ServiceOrg, Window
from schema.errors import CloseSessions, ErrorFormatting, is_expected
from schema.matters import Delegation, Matter, MatterImplementation
from schema.mutation import Mutation
from schema.query import Query
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


def build_schema(*, prod: bool = False) -> strawberry.Schema:
    # operation hooks unwind in reverse order: errors are formatted (typed codes
    # attached, partial-result errors added, the unexpected logged) before masking;
    # stream-result hooks run in list order, so streamed results are formatted first
    extensions: list[Any] = [WebSocketOperations, CloseSessions, StreamErrorFormatting]
    if prod:
        extensions.append(
            lambda: MaskErrors(
                should_mask_error=lambda e: not is_expected(e), error_message="内部错误"
            )
        )
    # counted and traced with the typed codes ErrorFormatting attaches, before masking
    extensions.append(OperationObserver)
    extensions.append(ErrorFormatting)
    schema = strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=NODE_TYPES,
        extensions=extensions,
        config=StrawberryConfig(auto_camel_case=True),
    )
    guard_schema(schema)
    return schema


def export_sdl() -> str:
    return build_schema().as_str() + "\n"
