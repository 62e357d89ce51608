"""Ready leaves: a scalar or enum field that answers an attribute of its object (a
Strawberry field without a resolver, extension or permission) is completed in one step
— the attribute read and serialised — instead of through graphql-core's machinery for
every field (its resolve info, the resolver call, the awaitable check, the completion
dispatch), which was most of the CPU of a leaf-heavy list (``serviceRoutes``: ~930
fields a page, most of them leaves).

Anything else takes graphql-core's own path, unchanged: a null (the non-null check and
its error), an exception as the value, a value that does not serialise (the error at its
path), every field with a resolver, and every field at all when a schema extension
hooks field resolution (``resolve``). The READ guard is not involved: a leaf returns no
object."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

READY = "__govhub_ready_leaf__"


def mark_ready_leaves(schema: strawberry.Schema) -> None:
    """Mark every leaf field that answers a plain attribute with (attribute, leaf type)."""
    for gql_type in schema._schema.type_map.values():
        if not isinstance(gql_type, GraphQLObjectType) or gql_type.name.startswith("__"):
            continue
        for name, gql_field in gql_type.fields.items():
            field_type = gql_field.type
            leaf = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
            if not isinstance(leaf, GraphQLScalarType | GraphQLEnumType):
                continue
            field = schema.get_field_for_type(name, gql_type.name)
            if field is None or not field.is_basic_field or gql_field.resolve is None:
                continue
            setattr(gql_field.resolve, READY, (field.python_name, leaf))


class ReadyLeavesExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        # a schema extension that hooks ``resolve`` must see every field
        self._plain = manager is None or manager._middleware_resolvers is None

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any = None,
    ) -> Any:
        if self._plain:
            field_def = self.schema.get_field(parent_type, field_details_list[0].node.name.value)
            ready = getattr(field_def.resolve, READY, None) if field_def is not None else None
            if ready is not None:
                value = getattr(source, ready[0], None)
                if value is not None and not isinstance(value, Exception):
                    try:
                        serialized = ready[1].serialize(value)
                    except Exception:
                        serialized = None  # graphql-core's path reports it
                    if serialized is not None and serialized is not Undefined:
                        return serialized
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )
