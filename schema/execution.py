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
# how the READ guard answers a ready value: hidden (null) when the field answers one
# object or null, else refused
SINGLE = "single"
WHOLE = "whole"


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
            field_type = gql_field.type
            leaf = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
            if not isinstance(leaf, GraphQLScalarType | GraphQLEnumType):
                continue
            field = schema.get_field_for_type(name, gql_type.name)
            if field is None or not field.is_basic_field or gql_field.resolve is None:
                continue
            setattr(gql_field.resolve, READY, (field.python_name, leaf))


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
        # same for every item): its ready leaves when every field of it is one, else
        # None; with the selection set, kept alive so that its id is not reused
        self._leaf_plans: dict[int, tuple[object, tuple[tuple[str, str, Any], ...] | None]] = {}

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        """An object whose selected fields are all ready leaves (a material's ``name``,
        a clock's ``state`` and ``dueOn``) is answered in one loop — no path, no call
        per field; the first field that is not plain (null, an exception, a value that
        does not serialise) sends the whole object down graphql-core's path."""
        if self._plain and path is not None:
            plan = self._plan_of(parent_type, grouped_field_set)
            if plan is not None:
                results = _leaf_values(source_value, plan)
                if results is not None:
                    return results
        return super().execute_fields(
            parent_type, source_value, path, grouped_field_set, position_context
        )

    def _plan_of(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> Any:
        kept = self._leaf_plans.get(id(grouped_field_set))
        if kept is None:
            kept = self._leaf_plans[id(grouped_field_set)] = (
                grouped_field_set,
                self._leaf_plan(parent_type, grouped_field_set),
            )
        return kept[1]

    def _ready_list(
        self, return_type: GraphQLOutputType, field_details_list: FieldDetailsList, value: Any
    ) -> list[dict[str, Any]] | None:
        """A ready list of objects whose selected fields are all ready leaves (a page's
        materials' names): each item's answer made in one loop, without graphql-core's
        completion per item. None (graphql-core completes it) when anything is not
        plain: a null item or leaf, a directive on the field (``@stream``), a type
        with ``is_type_of``, a deferred fragment."""
        listed = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
        if not isinstance(listed, GraphQLList) or not isinstance(value, list):
            return None
        item_type = listed.of_type
        if isinstance(item_type, GraphQLNonNull):
            item_type = item_type.of_type
        if not isinstance(item_type, GraphQLObjectType) or item_type.is_type_of is not None:
            return None
        if any(details.node.directives for details in field_details_list):
            return None
        grouped_field_set, deferred, _ = self.collect_subfields(item_type, field_details_list)
        if deferred:
            return None
        plan = self._plan_of(item_type, grouped_field_set)
        if plan is None:
            return None
        answers = []
        for item in value:
            answer = _leaf_values(item, plan)
            if answer is None:
                return None
            answers.append(answer)
        return answers

    def _leaf_plan(
        self, parent_type: GraphQLObjectType, grouped_field_set: Any
    ) -> tuple[tuple[str, str, Any], ...] | None:
        plan = []
        for response_name, field_details_list in grouped_field_set.items():
            field_def = self.schema.get_field(parent_type, field_details_list[0].node.name.value)
            ready = getattr(field_def.resolve, READY, None) if field_def is not None else None
            if ready is None or ready[1] is LIST or ready[1] is ONE:
                return None
            plan.append((response_name, ready[0], ready[1]))
        return tuple(plan) if plan else None

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


def _leaf_values(source: Any, plan: tuple[tuple[str, str, Any], ...]) -> dict[str, Any] | None:
    """An object's answer from its ready leaves, or None at the first that is not plain
    (null, an exception, a value that does not serialise): graphql-core's path then
    completes the object and reports it at its path."""
    results: dict[str, Any] = {}
    for response_name, attribute, leaf in plan:
        value = getattr(source, attribute, None)
        if value is None or isinstance(value, Exception):
            return None
        try:
            serialized = leaf.serialize(value)
        except Exception:
            return None
        if serialized is None or serialized is Undefined:
            return None
        results[response_name] = serialized
    return results
