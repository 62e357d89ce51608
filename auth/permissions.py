"""Permission classes and the object guard of the schema: the policy table
(``auth/policy.py``) enforced on every field that returns an object.

``IsAuthenticated`` refuses a field before it runs. The guard runs after: every field
whose type is an object type is wrapped (``guard_schema``), and every object it returns
that can say where it is and whose it is (``authz_target``) is checked for READ —
``node(id:)``, nested fields and connection edges alike.

Once per object, not per field: an object built whole with the objects its fields
answer (a connection and its edges, a service route) names them (``authz_parts``) and
is checked with them by the field that returns it; its own fields that answer those
ready values are not wrapped again. An object two parts share (the service orgs of a
route page) is decided once per check.

A field that answers one object or null (``case(number:)``, ``node(id:)``, ``licence``,
a nested link) answers null for an object the viewer may not read, exactly as for a key
nobody holds — for every viewer, nobody signed in included — so a guessable key (a case
number is sequential) tells nobody whether it exists. Lists and connections filter by
the same rules; an unreadable object reaching one is refused (FORBIDDEN or
UNAUTHENTICATED), never shown."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any, Protocol, runtime_checkable

import strawberry
from graphql import (
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLUnionType,
    default_field_resolver,
    get_named_type,
)
from strawberry.permission import BasePermission

from auth.errors import AuthErrorCode
from auth.policy import Action, Target, allows, require
from auth.viewer import Viewer
from levels.common.errors import DomainError


@runtime_checkable
class Guarded(Protocol):
    def authz_target(self) -> Target: ...


class Composite(Protocol):
    def authz_parts(self) -> Iterable[object]:
        """The objects its ready fields answer: checked with it, not per field."""
        ...


class IsAuthenticated(BasePermission):
    message = AuthErrorCode.UNAUTHENTICATED.value

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        viewer: Viewer = info.context.viewer
        return viewer.authenticated

    def on_unauthorized(self) -> None:
        raise DomainError(AuthErrorCode.UNAUTHENTICATED)


# per class: does it have ``authz_target``? Decided once per type, not with a
# ``runtime_checkable`` isinstance (which inspects the class on every call)
_guarded_types: dict[type, bool] = {}


def is_guarded(value: object) -> bool:
    """``value`` can say where it is and whose it is (``Guarded``)."""
    cls = type(value)
    found = _guarded_types.get(cls)
    if found is None:
        found = _guarded_types[cls] = callable(getattr(cls, "authz_target", None))
    return found


_composite_types: dict[type, bool] = {}


def is_composite(value: object) -> bool:
    """``value`` is checked with the objects its fields answer (``Composite``)."""
    cls = type(value)
    found = _composite_types.get(cls)
    if found is None:
        found = _composite_types[cls] = callable(getattr(cls, "authz_parts", None))
    return found


def check_read(viewer: Viewer, value: Any) -> None:
    """Raise UNAUTHENTICATED/FORBIDDEN if ``value`` (an object, a list of them, a
    connection, or an object with its parts) holds anything the viewer may not read.
    One decision per target: the items of a page share a few (a catalogue item's is
    its division), and the policy answers the same viewer and target alike."""
    _check(viewer, value, set(), {})


def _check(viewer: Viewer, value: Any, seen: set[int], decided: dict[Target, bool]) -> None:
    if value is None:
        return
    if is_guarded(value) and id(value) not in seen:
        seen.add(id(value))
        target = value.authz_target()
        allowed = decided.get(target)
        if allowed is None:
            allowed = decided[target] = allows(viewer, Action.READ, target)
        if not allowed:
            require(viewer, Action.READ, target)  # refused: its code
    if is_composite(value):
        for part in value.authz_parts():
            _check(viewer, part, seen, decided)
    elif isinstance(value, list | tuple):
        for item in value:
            _check(viewer, item, seen, decided)


def readable_or_none(viewer: Viewer, value: Any) -> Any:
    """``value`` when the viewer may read it, else None: an object they may not read
    does not exist for them."""
    if is_guarded(value) and not is_composite(value):
        # one decision: a second ``require`` on the same target would only repeat it
        return value if allows(viewer, Action.READ, value.authz_target()) else None
    check_read(viewer, value)
    return value


def _checked(viewer: Viewer, value: Any, single: bool) -> Any:
    if single:
        return readable_or_none(viewer, value)
    check_read(viewer, value)
    return value


def _guarded(resolve: Callable[..., Any], single: bool) -> Callable[..., Any]:
    def resolver(source: Any, info: GraphQLResolveInfo, **kwargs: Any) -> Any:
        result = resolve(source, info, **kwargs)
        if inspect.isawaitable(result):

            async def checked() -> Any:
                return _checked(info.context.viewer, await result, single)

            return checked()
        return _checked(info.context.viewer, result, single)

    resolver.__govhub_guarded__ = True  # type: ignore[attr-defined]
    return resolver


def _checked_with_parent(resolve: Callable[..., Any]) -> Callable[..., Any]:
    def resolver(source: Any, info: GraphQLResolveInfo, **kwargs: Any) -> Any:
        return resolve(source, info, **kwargs)

    # checked with the object it belongs to (``authz_parts``), by the field returning it
    resolver.__govhub_guarded__ = True  # type: ignore[attr-defined]
    resolver.__govhub_with_parent__ = True  # type: ignore[attr-defined]
    return resolver


def guard_schema(schema: strawberry.Schema) -> None:
    """Wrap the resolver of every field that returns objects with the READ guard, but
    the ready fields of an object checked whole (``authz_parts``)."""
    for gql_type in _object_types(schema._schema.type_map.values()):
        definition = (gql_type.extensions or {}).get("strawberry-definition")
        whole = callable(getattr(getattr(definition, "origin", None), "authz_parts", None))
        for name, gql_field in gql_type.fields.items():
            named = get_named_type(gql_field.type)
            if not isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
                continue
            resolve = gql_field.resolve or default_field_resolver
            if whole and _is_ready(schema, gql_type.name, name):
                if not getattr(resolve, "__govhub_guarded__", False):
                    gql_field.resolve = _checked_with_parent(resolve)
                continue
            if not getattr(resolve, "__govhub_guarded__", False):
                # one object or null (not a list, not non-null): hidden, not refused
                single = isinstance(gql_field.type, GraphQLNamedType)
                gql_field.resolve = _guarded(resolve, single)


def _is_ready(schema: strawberry.Schema, type_name: str, field_name: str) -> bool:
    """The field answers an attribute (no resolver of its own)."""
    field = schema.get_field_for_type(field_name, type_name)
    return field is not None and field.base_resolver is None


def _object_types(types: Iterable[Any]) -> Iterable[GraphQLObjectType]:
    for t in types:
        if isinstance(t, GraphQLObjectType) and not t.name.startswith("__"):
            yield t
