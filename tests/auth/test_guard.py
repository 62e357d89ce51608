"""The READ guard's check is decided once per type: a page of routes (hundreds of
guarded values) never falls back to a structural ``runtime_checkable`` check, and what
it decides is what the Protocol says."""

from __future__ import annotations

from typing import Any

import pytest

from auth import permissions
from auth.permissions import Guarded, is_guarded
from auth.policy import Resource, Target
from auth.viewer import ANONYMOUS
from levels.common.errors import DomainError
from tests.conftest import GraphQLClient

ROUTES = """
{ serviceRoutes(divisionCode: "140702101201", first: 50) {
    edges { node { matter { name } implementation { implementationCode } path { name } } }
} }"""


class WithTarget:
    def authz_target(self) -> Target:
        return Target(Resource.CATALOGUE)


class WithoutTarget:
    pass


def test_is_guarded_agrees_with_the_protocol() -> None:
    for value in (WithTarget(), WithoutTarget(), [], "text", None, 3):
        assert is_guarded(value) is isinstance(value, Guarded)


async def test_a_page_of_routes_needs_no_protocol_check(
    gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks = 0
    meta: Any = type(Guarded)
    original = meta.__instancecheck__

    def counting(cls: type, instance: object) -> bool:
        nonlocal checks
        if cls is Guarded:
            checks += 1
        return bool(original(cls, instance))

    monkeypatch.setattr(meta, "__instancecheck__", counting)
    monkeypatch.setattr(permissions, "_guarded_types", {})  # decided afresh, per type
    body = await gql(ROUTES)
    assert "errors" not in body, body
    assert len(body["data"]["serviceRoutes"]["edges"]) > 30
    assert checks == 0


class _Part:
    def __init__(self, target: Target) -> None:
        self.target = target
        self.asked = 0

    def authz_target(self) -> Target:
        self.asked += 1
        return self.target


class _Whole:
    def __init__(self, *parts: object) -> None:
        self.parts = parts

    def authz_parts(self) -> tuple[object, ...]:
        return self.parts


def test_an_object_built_whole_is_checked_with_its_parts_each_once() -> None:
    shared = _Part(Target(Resource.CATALOGUE))
    page = [_Whole(shared, [shared], None), _Whole(shared, RuntimeError("node down"))]
    permissions.check_read(ANONYMOUS, page)
    # the org two routes share is decided once; an exception standing for a part that
    # did not load is left to the field that answers it
    assert shared.asked == 1
    hidden = _Part(Target(Resource.CASE, division_code="140702101201", submitter="someone"))
    with pytest.raises(DomainError):
        permissions.check_read(ANONYMOUS, [_Whole(shared, [hidden])])
    # a part the viewer may not read refuses its object even where a field would hide it
    with pytest.raises(DomainError):
        permissions.readable_or_none(ANONYMOUS, _Whole(hidden))
