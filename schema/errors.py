"""How errors leave the hub.

Domain errors raised by query resolvers become GraphQL errors with ``extensions.code``
(and ``field``), in the client's language; a node that did not answer becomes a
NODE_UNAVAILABLE error next to partial data; in prod mode everything else is masked
(the client sees only a request id, the log has the full error). A database error never
shows its SQL, parameters or driver message, in any mode: its message is replaced (the
log still has it all)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

from graphql import GraphQLError
from sqlalchemy.exc import SQLAlchemyError
from strawberry.extensions import SchemaExtension

from levels.common.errors import DomainError, ErrorCode, message_for
from resolvers.fanout import NodeUnavailable

log = logging.getLogger("govhub.errors")
DATABASE_ERROR = "数据库错误 (database error; the log has the details)"


def _rebuild(error: GraphQLError, message: str, extensions: dict[str, object]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions=extensions,
    )


def format_error(error: GraphQLError, locale: str) -> GraphQLError:
    original = error.original_error
    if isinstance(original, DomainError):
        extensions: dict[str, object] = {"code": original.code.value}
        if original.field:
            extensions["field"] = original.field
        return _rebuild(error, original.localized(locale), extensions)
    if isinstance(original, NodeUnavailable):
        return _rebuild(
            error,
            message_for(ErrorCode.NODE_UNAVAILABLE, locale),
            {"code": ErrorCode.NODE_UNAVAILABLE.value, "level": original.level.value},
        )
    if isinstance(original, SQLAlchemyError):
        # still unexpected (no code): logged in full, masked in prod
        return _rebuild(error, DATABASE_ERROR, {})
    return error


def is_expected(error: GraphQLError) -> bool:
    """Errors a client may see in prod: typed domain errors and GraphQL validation."""
    return error.original_error is None or bool(error.extensions and "code" in error.extensions)


class ErrorFormatting(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        context = self.execution_context.context
        if result is None or context is None:
            return
        locale = getattr(context, "locale", "zh")
        errors = [format_error(e, locale) for e in (result.errors or [])]
        errors.extend(getattr(context, "partial_errors", []))
        for e in errors:
            if not is_expected(e):
                log.error("unexpected error at %s", e.path, exc_info=e.original_error)
        result.errors = errors or None


class CloseSessions(SchemaExtension):
    """Give the request's node sessions back to their pools when the operation ends."""

    async def on_operation(self) -> AsyncIterator[None]:
        try:
            yield
        finally:
            sessions = getattr(self.execution_context.context, "sessions", None)
            if sessions is not None:
                await sessions.close()
