"""What an operation asks for, measured on its document before it runs: depth, aliases,
root fields, introspection and a static cost estimate, all counted on the *expanded*
document (every fragment spread as if its selection were written out).

The cost model:

* a field of object type (an object, an interface, a union, or a list of them) costs 1
  plus its selection's cost times its multiplier; scalar and enum fields cost nothing;
* a field with a ``first`` argument (a connection page) multiplies by ``first`` (a
  literal or a variable; the default page size when absent; never more than the largest
  page, which the resolvers refuse anyway with ``PAGE_SIZE_TOO_LARGE``);
* ``edges`` and ``nodes`` of a connection multiply by 1 (the page was counted above);
  any other list of objects by ``list_factor``;
* introspection (``__schema``, ``__type``) is not priced (prod refuses it).

``serviceRoutes(first: 20) { edges { node { matter { name } } } }`` costs
1 + 20 × (1 + 1 × (1 + 1)) = 61.

Each fragment's figures are worked out once (per type it is spread on), so an alias
bomb of nested spreads is counted in time linear in the document's size, while its
numbers grow like the expansion; a fragment cycle (refused by validation anyway) counts
as nothing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_composite_type,
)
from graphql.type.definition import GraphQLField

INTROSPECTION = frozenset({"__schema", "__type"})
PAGE_LISTS = frozenset({"edges", "nodes"})


@dataclass(frozen=True)
class Figures:
    """Figures of one selection set, expanded."""

    fields: int = 0  # fields at this level (the root fields, for an operation)
    aliases: int = 0
    depth: int = 0
    cost: int = 0
    introspection: bool = False

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            self.fields + other.fields,
            self.aliases + other.aliases,
            max(self.depth, other.depth),
            self.cost + other.cost,
            self.introspection or other.introspection,
        )


@dataclass(frozen=True)
class Pricing:
    default_page_size: int
    max_page_size: int
    list_factor: int = 10


class Measure:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any] | None,
        pricing: Pricing,
    ) -> None:
        self.schema = schema
        self.variables = variables or {}
        self.pricing = pricing
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self._memo: dict[tuple[str, str], Figures] = {}
        self._visiting: set[str] = set()
        # the variables the figures depend on (a page size given as a variable)
        self.read: set[str] = set()

    def operation(self, operation: OperationDefinitionNode) -> Figures:
        root = {
            OperationType.QUERY: self.schema.query_type,
            OperationType.MUTATION: self.schema.mutation_type,
            OperationType.SUBSCRIPTION: self.schema.subscription_type,
        }[operation.operation]
        if root is None:
            return Figures()
        return self.selection(operation.selection_set, root)

    def selection(self, selection_set: SelectionSetNode, parent: GraphQLNamedType) -> Figures:
        total = Figures()
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                total += self.field(node, parent)
            elif isinstance(node, InlineFragmentNode):
                on = self._type(node.type_condition.name.value if node.type_condition else None)
                total += self.selection(node.selection_set, on or parent)
            elif isinstance(node, FragmentSpreadNode):
                total += self.spread(node.name.value, parent)
        return total

    def spread(self, name: str, parent: GraphQLNamedType) -> Figures:
        fragment = self.fragments.get(name)
        if fragment is None or name in self._visiting:
            return Figures()
        on = self._type(fragment.type_condition.name.value) or parent
        key = (name, on.name)
        if key not in self._memo:
            self._visiting.add(name)
            try:
                self._memo[key] = self.selection(fragment.selection_set, on)
            finally:
                self._visiting.discard(name)
        return self._memo[key]

    def field(self, node: FieldNode, parent: GraphQLNamedType) -> Figures:
        name = node.name.value
        aliases = 1 if node.alias is not None else 0
        if name in INTROSPECTION:
            return Figures(fields=1, aliases=aliases, depth=1, introspection=True)
        definition = self._field(parent, name)
        if definition is None or node.selection_set is None:
            return Figures(fields=1, aliases=aliases, depth=1)
        named = get_named_type(definition.type)
        if not is_composite_type(named):
            return Figures(fields=1, aliases=aliases, depth=1)
        inner = self.selection(node.selection_set, named)
        multiplier = self._multiplier(node, definition, parent)
        return Figures(
            fields=1,
            aliases=aliases + inner.aliases,
            depth=1 + inner.depth,
            cost=1 + multiplier * inner.cost,
            introspection=inner.introspection,
        )

    def _multiplier(
        self, node: FieldNode, definition: GraphQLField, parent: GraphQLNamedType
    ) -> int:
        if "first" in definition.args:
            return self._page(node)
        if isinstance(get_nullable_type(definition.type), GraphQLList):
            if node.name.value in PAGE_LISTS and parent.name.endswith("Connection"):
                return 1
            return self.pricing.list_factor
        return 1

    def _page(self, node: FieldNode) -> int:
        first: Any = None
        for argument in node.arguments or ():
            if argument.name.value != "first":
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                first = int(value.value)
            elif isinstance(value, VariableNode):
                self.read.add(value.name.value)
                first = self.variables.get(value.name.value)
        if not isinstance(first, int) or isinstance(first, bool):
            return self.pricing.default_page_size
        return max(1, min(first, self.pricing.max_page_size))

    def _type(self, name: str | None) -> GraphQLNamedType | None:
        return self.schema.get_type(name) if name else None

    @staticmethod
    def _field(parent: GraphQLNamedType, name: str) -> GraphQLField | None:
        fields = getattr(parent, "fields", None)
        return fields.get(name) if fields else None


def measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    pricing: Pricing,
) -> Figures:
    """Figures of the operation that will run (of every operation when the name does not
    pick one: the request is refused then anyway)."""
    return _measured(schema, document, operation_name, variables, pricing)[0]


def _measured(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    pricing: Pricing,
) -> tuple[Figures, frozenset[str]]:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [o for o in operations if operation_name and o.name and o.name.value == operation_name]
    measuring = Measure(schema, document, variables, pricing)
    total = Figures()
    for operation in chosen or operations:
        total += measuring.operation(operation)
    return total, frozenset(measuring.read)


def _page_value(variables: Mapping[str, Any] | None, name: str) -> int | None:
    """What the cost model reads of a variable: an int page size, or nothing."""
    value = (variables or {}).get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class Measured:
    """The figures of the documents measured before, by document, operation name and the
    page sizes they were given: a document's figures depend on its text and on the
    variables that size its pages, nothing else, and clients send the same few documents
    again and again. Bounded like the document cache (``gateway/documents.py``); a
    document is recognised by identity (the cache hands out the same parsed document
    for the same text)."""

    def __init__(self, maxsize: int = 512) -> None:
        self._entries: LRUCache[tuple[int, str | None, Pricing], _Entry] = LRUCache(maxsize)

    def figures(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
        pricing: Pricing,
    ) -> Figures:
        key = (id(document), operation_name, pricing)
        entry = self._entries.get(key)
        if entry is None or entry.document is not document or entry.schema is not schema:
            figures, read = _measured(schema, document, operation_name, variables, pricing)
            entry = self._entries[key] = _Entry(document, schema, tuple(sorted(read)), {})
            entry.known[self._sizes(entry, variables)] = figures
            return figures
        sizes = self._sizes(entry, variables)
        found = entry.known.get(sizes)
        if found is None:
            found = measure(schema, document, operation_name, variables, pricing)
            if len(entry.known) < 64:
                entry.known[sizes] = found
        return found

    @staticmethod
    def _sizes(entry: _Entry, variables: Mapping[str, Any] | None) -> tuple[int | None, ...]:
        return tuple(_page_value(variables, name) for name in entry.read)


@dataclass
class _Entry:
    document: DocumentNode
    schema: GraphQLSchema
    read: tuple[str, ...]
    known: dict[tuple[int | None, ...], Figures]
