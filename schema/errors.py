"""How errors leave the hub.

Domain errors raised by query resolvers become GraphQL errors with ``extensions.code``
(and ``field``), in the client's language; a node that did not answer becomes a
NODE_UNAVAILABLE error next to partial data; a request GraphQL refuses before running
it gets the code of why (GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED,
BAD_USER_INPUT); in prod mode everything else is masked (the client sees only a request
id, the log has the full error). A database error never shows its SQL, parameters or
driver message, in any mode: its message is replaced (the log still has it all).

The log says which is which: an unexpected error (a bug) is an ERROR of
``govhub.errors`` with its traceback; a typed refusal is one INFO line of
``govhub.refusals``, without one."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLSyntaxError
from graphql.execution.middleware import MiddlewareManager
from sqlalchemy.exc import SQLAlchemyError
from strawberry.extensions import SchemaExtension

from levels.common.errors import DomainError, ErrorCode, message_for
from resolvers.fanout import NodeUnavailable
from resolvers.partial import unavailable_extensions
from schema.error_shape import domain_error, rebuild
from schema.hooks import ClassHooksRunner, middleware_manager

log = logging.getLogger("govhub.errors")
refusals = logging.getLogger("govhub.refusals")
DATABASE_ERROR = "数据库错误 (database error; the log has the details)"


def format_error(error: GraphQLError, locale: str) -> GraphQLError:
    original = error.original_error
    if isinstance(original, DomainError):
        return domain_error(error, original, locale)
    if isinstance(original, NodeUnavailable):
        return rebuild(
            error,
            message_for(ErrorCode.NODE_UNAVAILABLE, locale),
            unavailable_extensions(original),
        )
    code = request_error_code(error)
    if code is not None:
        # graphql-core's own words say what is wrong; the code says what kind of wrong
        refused = DomainError(code, detail=error.message)
        return rebuild(error, refused.localized(locale), {"code": code.value})
    if isinstance(original, SQLAlchemyError):
        # still unexpected (no code): logged in full, masked in prod
        return rebuild(error, DATABASE_ERROR, {})
    return error


def request_error_code(error: GraphQLError) -> ErrorCode | None:
    """The code of an error of a request refused before it ran: none has a ``path``.
    A document that does not parse; one that does not validate (graphql-core's rules
    raise no exception of their own); variables that do not coerce (graphql-core wraps
    the coercion's error). Anything else without a path (an exception) is unexpected."""
    if error.path is not None or (error.extensions or {}).get("code") is not None:
        return None
    if isinstance(error, GraphQLSyntaxError):
        return ErrorCode.GRAPHQL_PARSE_FAILED
    if error.original_error is None:
        return ErrorCode.GRAPHQL_VALIDATION_FAILED
    if isinstance(error.original_error, GraphQLError):
        return ErrorCode.BAD_USER_INPUT
    return None


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
        result.errors = errors or None


class GovHubSchema(strawberry.Schema):
    """Strawberry's schema, logging errors as an operator reads them: ERROR means a bug.
    (Strawberry logs every error at ERROR with its traceback, typed refusals too.) Every
    error of a request comes through here once, before masking, on every transport."""

    def create_extensions_runner(
        self, execution_context: Any, extensions: list[SchemaExtension]
    ) -> ClassHooksRunner:
        return ClassHooksRunner(execution_context=execution_context, extensions=extensions)

    def _get_middleware_manager(self, extensions: list[SchemaExtension]) -> MiddlewareManager:
        return middleware_manager(extensions)

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        for error in errors:
            typed = format_error(error, "en")
            if is_expected(typed):
                code = (typed.extensions or {}).get("code")
                refusals.info("refused at %s: %s", error.path, code or typed.message)
            else:
                log.error("unexpected error at %s", error.path, exc_info=error.original_error)
