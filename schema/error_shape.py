"""The shape of an error as it leaves an API, shared by the hub's schema and a node's:
a domain error carries its code and field in ``extensions`` and its message in the
caller's language. Imports nothing of the hub, so a node's API can use it."""

from __future__ import annotations

from graphql import GraphQLError

from levels.common.errors import DomainError


def rebuild(error: GraphQLError, message: str, extensions: dict[str, object]) -> GraphQLError:
    """The same error (place, path, cause) with another message and extensions."""
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions=extensions,
    )


def domain_error(error: GraphQLError, original: DomainError, locale: str) -> GraphQLError:
    """A typed refusal: its code, the input field it names, its message in ``locale``."""
    extensions: dict[str, object] = {"code": original.code.value}
    if original.field:
        extensions["field"] = original.field
    return rebuild(error, original.localized(locale), extensions)
