"""How errors leave a node: a domain error (a division not owned, a bad cursor) carries
its code and field in ``extensions`` and its message in the caller's language; a
database error never shows its SQL (the log has it)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import strawberry
from graphql import GraphQLError
from sqlalchemy.exc import SQLAlchemyError
from strawberry.extensions import SchemaExtension

from levels.common.errors import DomainError
from schema.error_shape import domain_error, rebuild
from schema.node.context import NodeContext

log = logging.getLogger("govhub.node.errors")
refusals = logging.getLogger("govhub.node.refusals")
DATABASE_ERROR = "数据库错误 (database error; the node's log has the details)"


def format_error(error: GraphQLError, locale: str) -> GraphQLError:
    original = error.original_error
    if isinstance(original, DomainError):
        return domain_error(error, original, locale)
    if isinstance(original, SQLAlchemyError):
        log.error("database error in a node call", exc_info=original)
        return rebuild(error, DATABASE_ERROR, {})
    return error


class NodeSchema(strawberry.federation.Schema):
    """Logs a call's errors as an operator reads them: a typed refusal is one INFO
    line, anything else an ERROR with its traceback (Strawberry logs both as ERROR)."""

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        for error in errors:
            original = error.original_error
            if isinstance(original, DomainError):
                refusals.info("refused at %s: %s", error.path, original.code.value)
            elif error.path is None and original is None:
                refusals.info("refused: %s", error.message)
            else:
                log.error("unexpected error at %s", error.path, exc_info=original or error)


class NodeErrors(SchemaExtension):
    """Formats the errors of a call and closes its session when the call is done."""

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context.context
        if isinstance(context, NodeContext):
            await context.close()
            locale = context.locale
        else:
            locale = "zh"
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [format_error(e, locale) for e in result.errors]
