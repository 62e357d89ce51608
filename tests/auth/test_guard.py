"""The READ guard's check is decided once per type: a page of routes (hundreds of
guarded values) never falls back to a structural ``runtime_checkable`` check, and what
it decides is what the Protocol says."""

from __future__ import annotations

from typing import Any

import pytest

from auth import permissions
from auth.permissions import Guarded, is_guarded
from auth.policy import Resource, Target
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
