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
object.

Ready lists: a field with a resolver of its own may name, in its metadata
(``READY_LIST``), the attribute where a page that loaded it for all its items keeps its
value (``MatterImplementation.materials``: ``ready_materials``). When the object holds
it, the list is completed at once — no resolver call, no awaitable, no gather of one
future per item; when it does not (the object did not come from such a page), the
resolver answers as always.

Ready objects: the same for a field that answers one object or null
(``MatterImplementation.org``, ``matter``, ``department``; metadata ``READY_ONE``). Its
attribute holds ``UNREADY`` until a page sets it; anything else, null included (an item
without a department), is the field's answer.

A ready value skips the field's resolver, and with it the READ guard that wraps it
(``auth/permissions.py``); so the guard is applied here, the same way: an object the
viewer may not read is null in a field of one object or null, refused (FORBIDDEN or
UNAUTHENTICATED) in a list or non-null field. One decision per object and request: the
objects of a page are shared by its items (one ``ServiceOrg`` for all the items of a
centre)."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Any

import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    get_named_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.cast import get_strawberry_type_cast

from auth.permissions import check_read, is_composite, is_guarded, readable_or_none

# on a field's resolver: (attribute, leaf type) of a ready leaf; (attribute, LIST or
# ONE, its guard: None, SINGLE or WHOLE) of a ready list or object
READY = "__govhub_ready_leaf__"
# a field's metadata key: the attribute of its object that holds its ready value
# (a list: None until set)
READY_LIST = "govhub_ready_list"
# the same for a field that answers one object or null: ``UNREADY`` until set
READY_ONE = "govhub_ready_one"
LIST = "list"
ONE = "one"
# on a field's resolver: (attribute, leaf type, whether an item may be null) of a list
# of leaves that answers an attribute (a route's ``villageModes``)
READY_LEAVES = "__govhub_ready_leaves__"
# on the resolver of an object field checked with its parent (``authz_parts``: a
# connection's ``edges``, an edge's ``node``, a route's ``implementation``): its attribute
READY_PART = "__govhub_ready_part__"
# how the READ guard answers a ready value: hidden (null) when the field answers one
# object or null, else refused
SINGLE = "single"
WHOLE = "whole"


# the steps of a plan: (response name, kind, attribute, how, nullable, item nullable);
# ``how``: the leaf type, or (sub-plan, class, READ guard, unset value) of objects
_LEAF, _LEAVES, _OBJECT, _OBJECTS, _TYPENAME = "leaf", "leaves", "object", "objects", "typename"
Step = tuple[str, str, str, Any, bool, bool]
Plan = tuple[Step, ...]
_MISSING: Any = object()


class _Unready:
    """The value of a ready object's attribute before a page sets it."""

    def __repr__(self) -> str:
        return "UNREADY"


UNREADY: Any = _Unready()


def mark_ready_leaves(schema: strawberry.Schema) -> None:
    """Mark every leaf field that answers a plain attribute with (attribute, leaf type)."""
    for gql_type in schema._schema.type_map.values():
        if not isinstance(gql_type, GraphQLObjectType) or gql_type.name.startswith("__"):
            continue
        for name, gql_field in gql_type.fields.items():
            resolve = gql_field.resolve
            field = schema.get_field_for_type(name, gql_type.name)
            if field is None or not field.is_basic_field or resolve is None:
                continue
            if getattr(resolve, "__govhub_with_parent__", False):
                setattr(resolve, READY_PART, field.python_name)
                continue
            leaf = _unwrapped(gql_field.type)
            if isinstance(leaf, GraphQLScalarType | GraphQLEnumType):
                setattr(resolve, READY, (field.python_name, leaf))
            elif isinstance(leaf, GraphQLList):
                item = _unwrapped(leaf.of_type)
                if isinstance(item, GraphQLScalarType | GraphQLEnumType):
                    nullable = not isinstance(leaf.of_type, GraphQLNonNull)
                    setattr(resolve, READY_LEAVES, (field.python_name, item, nullable))


def _unwrapped(gql_type: Any) -> Any:
    return gql_type.of_type if isinstance(gql_type, GraphQLNonNull) else gql_type


def mark_ready_lists(schema: strawberry.Schema) -> None:
    """Mark every field whose metadata names the attribute of its ready value (a list
    or one object)."""
    for gql_type in schema._schema.type_map.values():
        if not isinstance(gql_type, GraphQLObjectType) or gql_type.name.startswith("__"):
            continue
        for name, gql_field in gql_type.fields.items():
            field = schema.get_field_for_type(name, gql_type.name)
            metadata: Mapping[str, Any] = (field.metadata if field is not None else None) or {}
            kind = LIST if READY_LIST in metadata else ONE if READY_ONE in metadata else None
            if kind is None or gql_field.resolve is None:
                continue
            attribute = metadata[READY_LIST if kind is LIST else READY_ONE]
            item = get_named_type(gql_field.type)
            origin = getattr((item.extensions or {}).get("strawberry-definition"), "origin", None)
            guarded = not isinstance(item, GraphQLObjectType) or any(
                callable(getattr(origin, m, None)) for m in ("authz_target", "authz_parts")
            )
            # as ``guard_schema`` decides: one object or null is hidden, not refused
            single = isinstance(gql_field.type, GraphQLNamedType)
            guard = (SINGLE if single else WHOLE) if guarded else None
            setattr(gql_field.resolve, READY, (attribute, kind, guard))


class ReadyLeavesExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        # a schema extension that hooks ``resolve`` must see every field
        self._plain = manager is None or manager._middleware_resolvers is None
        # the READ guard's answer for each ready object of the request, by id, with
        # the object (kept alive, its id is not reused by another during the request)
        self._readable: dict[int, tuple[object, bool]] = {}
        # per selection set (graphql-core collects it once per list, so its id is the
        # same for every item): its plan when every field of it is ready, else None;
        # with the selection set, kept alive so that its id is not reused
        self._plans: dict[int, tuple[object, Plan | None]] = {}

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        """An object whose selected fields are all ready (leaves, lists of leaves, ready
        lists and objects, objects checked with their parent — a page's connection, its
        edges, their items and the items' materials) is answered in one walk: no path,
        no resolve info, no call per field or per item. The first value that is not
        plain (null where the schema says non-null, an exception, a value that does not
        serialise, an object the READ guard refuses or has not decided) sends the whole
        object down graphql-core's path, which answers or reports it as always."""
        if self._plain and path is not None:
            plan = self._plan_of(parent_type, grouped_field_set)
            if plan is not None:
                results = self._answer(source_value, plan)
                if results is not None:
                    return results
        return super().execute_fields(
            parent_type, source_value, path, grouped_field_set, position_context
        )

    def _plan_of(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> Plan | None:
        kept = self._plans.get(id(grouped_field_set))
        if kept is None:
            kept = self._plans[id(grouped_field_set)] = (
                grouped_field_set,
                self._compile(parent_type, grouped_field_set),
            )
        return kept[1]

    def _compile(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> Plan | None:
        """The plan of a selection set on ``parent_type``, or None when a field of it is
        not ready (a resolver of its own, an interface or union, a deferred fragment, a
        directive other than ``@include``/``@skip``, an ``is_type_of`` of its own)."""
        plan: list[Step] = []
        for response_name, field_details_list in grouped_field_set.items():
            node = field_details_list[0].node
            if any(_directed(details.node) for details in field_details_list):
                return None
            if node.name.value == "__typename":
                plan.append((response_name, _TYPENAME, "", parent_type.name, False, False))
                continue
            field_def = self.schema.get_field(parent_type, node.name.value)
            if field_def is None:
                return None
            resolve = field_def.resolve
            nullable = not isinstance(field_def.type, GraphQLNonNull)
            ready = getattr(resolve, READY, None)
            if ready is not None and ready[1] is not LIST and ready[1] is not ONE:
                plan.append((response_name, _LEAF, ready[0], ready[1], nullable, False))
                continue
            leaves = getattr(resolve, READY_LEAVES, None)
            if leaves is not None:
                attribute, leaf, item_nullable = leaves
                plan.append((response_name, _LEAVES, attribute, leaf, nullable, item_nullable))
                continue
            if ready is not None:
                attribute, guard = ready[0], ready[2]
                unset = None if ready[1] is LIST else UNREADY
            else:
                attribute, guard, unset = getattr(resolve, READY_PART, None), None, _MISSING
                if attribute is None:
                    return None
            listed = _unwrapped(field_def.type)
            many = isinstance(listed, GraphQLList)
            item_type = _unwrapped(listed.of_type) if many else listed
            if not isinstance(item_type, GraphQLObjectType):
                return None
            origin = _origin(item_type)
            if origin is False:
                return None
            sub_fields, deferred, _ = self.collect_subfields(item_type, field_details_list)
            sub = None if deferred else self._plan_of(item_type, sub_fields)
            if sub is None:
                return None
            item_nullable = many and not isinstance(listed.of_type, GraphQLNonNull)
            shape = (sub, origin, guard, unset)
            kind = _OBJECTS if many else _OBJECT
            plan.append((response_name, kind, attribute, shape, nullable, item_nullable))
        return tuple(plan) if plan else None

    def _answer(self, source: Any, plan: Plan) -> dict[str, Any] | None:
        """``source``'s answer by its plan, or None at the first value that is not plain."""
        results: dict[str, Any] = {}
        for response_name, kind, attribute, how, nullable, item_nullable in plan:
            if kind is _TYPENAME:
                results[response_name] = how
                continue
            if kind is _LEAF or kind is _LEAVES:
                value = getattr(source, attribute, _MISSING)
                if value is None and nullable:
                    results[response_name] = None
                    continue
                answer = (
                    _leaf(value, how) if kind is _LEAF else _leaf_list(value, how, item_nullable)
                )
                if answer is _MISSING:
                    return None
                results[response_name] = answer
                continue
            sub, origin, guard, unset = how
            value = getattr(source, attribute, _MISSING)
            if value is unset or value is _MISSING or isinstance(value, Exception):
                return None  # its resolver answers, or graphql-core reports it
            if value is None:
                if not nullable:
                    return None
                results[response_name] = None
                continue
            if guard is not None:
                readable = self._readable_all(value)
                if readable is None or (not readable and guard is not SINGLE):
                    return None  # refused (or not decided here): at its path
                if not readable:
                    results[response_name] = None
                    continue
            if kind is _OBJECT:
                answer = self._object(value, sub, origin)
            elif isinstance(value, list):
                answer = self._objects(value, sub, origin, item_nullable)
            else:
                return None
            if answer is None:
                return None
            results[response_name] = answer
        return results

    def _object(self, value: Any, sub: Plan, origin: type | None) -> dict[str, Any] | None:
        if origin is not None and (type(value) is not origin or get_strawberry_type_cast(value)):
            return None  # graphql-core's ``is_type_of`` decides
        return self._answer(value, sub)

    def _objects(
        self, values: list[Any], sub: Plan, origin: type | None, item_nullable: bool
    ) -> list[Any] | None:
        answers: list[Any] = []
        for item in values:
            if item is None:
                if not item_nullable:
                    return None
                answers.append(None)
                continue
            answer = self._object(item, sub, origin)
            if answer is None:
                return None
            answers.append(answer)
        return answers

    def _readable_all(self, value: Any) -> bool | None:
        """The READ guard's answer for a ready object or list of them: None when it is
        not one decision per object (an object checked with its parts)."""
        if isinstance(value, list):
            for item in value:
                readable = self._readable_one(item)
                if not readable:
                    return readable
            return True
        return self._readable_one(value)

    def _readable_one(self, value: Any) -> bool | None:
        if value is None or is_composite(value) or isinstance(value, list | tuple):
            return None
        if not is_guarded(value):
            return True
        decided = self._readable.get(id(value))
        if decided is None:
            decided = self._readable[id(value)] = (
                value,
                readable_or_none(self.context_value.viewer, value) is not None,
            )
        return decided[1]

    def _ready_list(
        self, return_type: GraphQLOutputType, field_details_list: FieldDetailsList, value: Any
    ) -> list[Any] | None:
        """A ready list of objects whose selections are all ready (a page's materials'
        names): answered in one walk, without graphql-core's completion per item. None
        (graphql-core completes it) when anything is not plain: a null item or leaf
        where the schema says non-null, a directive on the field (``@stream``), a type
        with an ``is_type_of`` of its own, a deferred fragment."""
        listed = _unwrapped(return_type)
        if not isinstance(listed, GraphQLList) or not isinstance(value, list):
            return None
        item_type = _unwrapped(listed.of_type)
        if not isinstance(item_type, GraphQLObjectType):
            return None
        origin = _origin(item_type)
        if origin is False or any(details.node.directives for details in field_details_list):
            return None
        grouped_field_set, deferred, _ = self.collect_subfields(item_type, field_details_list)
        if deferred:
            return None
        plan = self._plan_of(item_type, grouped_field_set)
        if plan is None:
            return None
        item_nullable = not isinstance(listed.of_type, GraphQLNonNull)
        return self._objects(value, plan, origin, item_nullable)

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
                kind = ready[1]
                value = getattr(source, ready[0], UNREADY if kind is ONE else None)
                if kind is LIST or kind is ONE:
                    # a ready list or object: completed as it is, else its resolver answers
                    if value is not (UNREADY if kind is ONE else None):
                        assert field_def is not None
                        return self._complete_ready(
                            field_def,
                            parent_type,
                            field_details_list,
                            path,
                            position_context,
                            value,
                            ready[2],
                        )
                elif value is not None and not isinstance(value, Exception):
                    try:
                        serialized = ready[1].serialize(value)
                    except Exception:
                        serialized = None  # graphql-core's path reports it
                    if serialized is not None and serialized is not Undefined:
                        return serialized
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    def _complete_ready(
        self,
        field_def: GraphQLField,
        parent_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
        value: Any,
        guard: str | None,
    ) -> Any:
        """graphql-core's ``execute_field`` with ``value`` as what its resolver answered
        (after the READ guard that wraps it)."""
        return_type = field_def.type
        nodes = [details.node for details in field_details_list]
        info = self.build_resolve_info(field_def, nodes, parent_type, path)
        try:
            if guard is not None:
                value = self._guarded(value, guard)
            ready = self._ready_list(return_type, field_details_list, value)
            if ready is not None:
                return ready
            completed = self.complete_value(
                return_type, field_details_list, info, path, value, position_context
            )
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
        if self.is_awaitable(completed):
            return self._settled(completed, return_type, field_details_list, path)
        return completed

    def _guarded(self, value: Any, guard: str) -> Any:
        """The READ guard's answer for a ready value (``auth/permissions.py``)."""
        viewer = self.context_value.viewer
        if is_guarded(value) and not is_composite(value):
            decided = self._readable.get(id(value))
            if decided is None:
                decided = self._readable[id(value)] = (
                    value,
                    readable_or_none(viewer, value) is not None,
                )
            if decided[1]:
                return value
            if guard is SINGLE:
                return None
        elif guard is SINGLE:
            return readable_or_none(viewer, value)
        check_read(viewer, value)  # refused: raised at the field's path
        return value

    async def _settled(
        self,
        completed: Awaitable[Any],
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        path: Path,
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None


def _leaf(value: Any, leaf: Any) -> Any:
    """A leaf's serialised value, or ``_MISSING`` when it is not plain (null, an
    exception, a value that does not serialise): graphql-core reports it at its path."""
    if value is None or value is _MISSING or isinstance(value, Exception):
        return _MISSING
    try:
        serialized = leaf.serialize(value)
    except Exception:
        return _MISSING
    if serialized is None or serialized is Undefined:
        return _MISSING
    return serialized


def _leaf_list(value: Any, leaf: Any, item_nullable: bool) -> Any:
    if not isinstance(value, list):
        return _MISSING
    answers: list[Any] = []
    for item in value:
        if item is None and item_nullable:
            answers.append(None)
            continue
        answer = _leaf(item, leaf)
        if answer is _MISSING:
            return _MISSING
        answers.append(answer)
    return answers


def _directed(node: Any) -> bool:
    """A directive on the field other than ``@include``/``@skip`` (applied when the
    fields were collected): ``@stream`` and the like take graphql-core's path."""
    return any(d.name.value not in ("include", "skip") for d in node.directives or ())


def _origin(object_type: GraphQLObjectType) -> Any:
    """The class an object must be for ``object_type``'s ``is_type_of`` to hold, None
    when it has none, False when it has one of its own (graphql-core calls it)."""
    if object_type.is_type_of is None:
        return None
    definition = (object_type.extensions or {}).get("strawberry-definition")
    if definition is None or definition.is_type_of is not None:
        return False
    return definition.origin
