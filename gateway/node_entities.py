"""The hub's most frequent call to a node, answered without GraphQL's execution: the
``_entities`` of one entity type's ``columns`` (``NodeClient.entities(T, keys,
["columns"])``).

A document of exactly that shape, once parsed and validated (``DocumentCache``), is
answered by the type's own ``resolve_reference`` — the same scope checks, the same
per-call loader, one statement for the batch — and its ``columns`` resolver, and put
in the same JSON as the execution would. Anything else about the call, or any
exception while it is answered (a division not owned, a key that is not a string, a
database error), and the call is executed as before instead, which answers it and
shapes its errors as always: what the shortcut answers, it answers alike, and it
answers nothing else."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    InlineFragmentNode,
    ListTypeNode,
    NamedTypeNode,
    NonNullTypeNode,
    OperationDefinitionNode,
    OperationType,
    TypeNode,
    VariableNode,
)
from strawberry.schema import BaseSchema

from gateway.node_http import DocumentCache
from schema.node import NodeContext

FIELD = "columns"


@dataclass(frozen=True)
class _Entity:
    """An entity type the shortcut answers: its class, its key's one field, and its
    ``columns`` resolver."""

    origin: Any
    key: str
    columns: Callable[[Any], Any]


@dataclass(frozen=True)
class Shape:
    """A document of the shortcut's shape: the variable of its representations and the
    type asked for."""

    variable: str
    operation: str | None
    entity: _Entity


@dataclass(frozen=True)
class _Info:
    """What ``resolve_reference`` reads of GraphQL's ``info``: the call's context."""

    context: NodeContext


def _entities(schema: BaseSchema) -> dict[str, _Entity]:
    found: dict[str, _Entity] = {}
    for name, converted in schema.schema_converter.type_map.items():
        definition: Any = getattr(converted, "definition", None)
        origin = getattr(definition, "origin", None)
        if definition is None or origin is None or not hasattr(origin, "resolve_reference"):
            continue
        keys = [d.fields for d in definition.directives or () if type(d).__name__ == "Key"]
        field = next((f for f in definition.fields if f.python_name == FIELD), None)
        resolver = getattr(field, "base_resolver", None)
        if len(keys) != 1 or not str(keys[0]).isidentifier() or resolver is None:
            continue
        if field is None or field.graphql_name not in (None, FIELD) or field.arguments:
            continue
        found[name] = _Entity(origin, str(keys[0]), resolver.wrapped_func)
    return found


def _is_any_list(node: TypeNode) -> bool:
    """``[_Any!]!``."""
    if not isinstance(node, NonNullTypeNode) or not isinstance(node.type, ListTypeNode):
        return False
    item = node.type.type
    return (
        isinstance(item, NonNullTypeNode)
        and isinstance(item.type, NamedTypeNode)
        and item.type.name.value == "_Any"
    )


def _plain(node: FieldNode, name: str) -> bool:
    return node.name.value == name and node.alias is None and not node.directives


def _shape(document: DocumentNode, entities: Mapping[str, _Entity]) -> Shape | None:
    """The shape of ``document`` if it is ``query ($r: [_Any!]!) { _entities
    (representations: $r) { ... on T { columns } } }``, else None."""
    if len(document.definitions) != 1:
        return None
    operation = document.definitions[0]
    if (
        not isinstance(operation, OperationDefinitionNode)
        or operation.operation is not OperationType.QUERY
        or operation.directives
        or len(operation.variable_definitions or ()) != 1
        or len(operation.selection_set.selections) != 1
    ):
        return None
    declared = (operation.variable_definitions or ())[0]
    field = operation.selection_set.selections[0]
    if (
        declared.default_value is not None
        or declared.directives
        or not _is_any_list(declared.type)
        or not isinstance(field, FieldNode)
        or not _plain(field, "_entities")
        or len(field.arguments or ()) != 1
        or field.selection_set is None
        or len(field.selection_set.selections) != 1
    ):
        return None
    argument = (field.arguments or ())[0]
    fragment = field.selection_set.selections[0]
    if (
        argument.name.value != "representations"
        or not isinstance(argument.value, VariableNode)
        or argument.value.name.value != declared.variable.name.value
        or not isinstance(fragment, InlineFragmentNode)
        or fragment.directives
        or fragment.type_condition is None
        or len(fragment.selection_set.selections) != 1
    ):
        return None
    entity = entities.get(fragment.type_condition.name.value)
    selected = fragment.selection_set.selections[0]
    if (
        entity is None
        or not isinstance(selected, FieldNode)
        or not _plain(selected, FIELD)
        or selected.arguments
        or selected.selection_set is not None
    ):
        return None
    name = operation.name.value if operation.name else None
    return Shape(declared.variable.name.value, name, entity)


class EntityShortcut:
    """The shortcut of one node's schema, over the documents its cache found valid."""

    def __init__(self, schema: BaseSchema, documents: DocumentCache) -> None:
        self.documents = documents
        self.entities = _entities(schema)
        self._shapes: dict[str, Shape | None] = {}

    def shape(self, query: str, operation: str | None) -> Shape | None:
        """The shortcut's shape of a call's document, if it has it and was found valid."""
        if query not in self.documents.valid:
            return None
        if query in self._shapes:
            shape = self._shapes[query]
        else:
            if len(self._shapes) >= self.documents.size:
                self._shapes.clear()
            shape = self._shapes[query] = _shape(self.documents.parsed[query], self.entities)
        if shape is None or operation not in (None, shape.operation):
            return None
        return shape

    async def answer(
        self, shape: Shape, variables: Mapping[str, Any], context: NodeContext
    ) -> dict[str, Any] | None:
        """The call's result as the execution gives it, or None: let it execute."""
        if len(variables) != 1:
            return None
        representations = variables.get(shape.variable)
        if not isinstance(representations, list):
            return None
        entity = shape.entity
        typename = entity.origin.__strawberry_definition__.name
        keys = []
        for representation in representations:
            if (
                not isinstance(representation, dict)
                or len(representation) != 2
                or representation.get("__typename") != typename
                or entity.key not in representation
            ):
                return None
            keys.append(representation[entity.key])
        info = _Info(context)
        found = await asyncio.gather(
            *(entity.origin.resolve_reference(info, **{entity.key: key}) for key in keys),
            return_exceptions=True,
        )
        if any(isinstance(row, BaseException) for row in found):
            return None  # executed instead, which raises it again and shapes its error
        try:
            items = [None if row is None else {FIELD: entity.columns(row)} for row in found]
        except Exception:  # as above
            return None
        return {"data": {"_entities": items}}
