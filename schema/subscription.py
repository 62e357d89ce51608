"""The root Subscription, served over graphql-transport-ws at ``/graphql`` (DESIGN §6).
Field names are a contract: add, don't rename."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import StreamExecutionResult

from resolvers import case_events
from resolvers import windows as window_resolvers
from schema.cases import CaseType
from schema.divisions import QueueState
from schema.errors import format_error
from schema.info import Info


@strawberry.type(description="Live updates over the WebSocket: a case, a window's queue")
class Subscription:
    @strawberry.subscription(
        description="A case as the viewer may see it now, then again each time it changes "
        "(signed in; a case the viewer may not read is CASE_NOT_FOUND)"
    )
    def case_updated(self, info: Info, number: str) -> AsyncIterator[CaseType]:
        return case_events.follow_case(info, number)

    @strawberry.subscription(
        description="A window's queue now, then again after each change at its org: the "
        "number at the window and the numbers waiting, never who holds them (signed in)"
    )
    def window_queue(self, info: Info, window_id: strawberry.ID) -> AsyncIterator[QueueState]:
        return window_resolvers.follow_queue(info, window_id)


class StreamErrorFormatting(SchemaExtension):
    """Typed errors (``extensions.code``, in the client's language) on every result of
    a stream — each event of a subscription, a query over a WebSocket — as
    ``ErrorFormatting`` does once a request's single result is complete. Listed before
    masking, so that typed errors are kept."""

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        context = self.execution_context.context
        partial = getattr(context, "partial_errors", None)
        errors = getattr(result, "errors", None) or []
        if errors or partial:
            locale = getattr(context, "locale", "zh")
            formatted = [format_error(e, locale) for e in errors]
            if partial:
                formatted.extend(partial)
                partial.clear()
            result.errors = formatted  # type: ignore[union-attr]
        yield
