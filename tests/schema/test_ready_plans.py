"""A page whose selections are all ready (leaves, lists of leaves, ready lists and
objects, objects checked with their parent) is answered in one walk of its plan
(``schema/execution.py``): graphql-core's ``execute_field`` runs a few times a request,
not once per item. The walk answers what graphql-core answers — the same values, nulls,
aliases, order, errors and their paths — and a value it cannot answer plainly sends the
object down graphql-core's path."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import strawberry
from graphql.execution.executor import Executor

from auth.policy import Resource, Target
from levels.common.enums import HandlingKind, Level, MatterStatus, OnlineLevel
from resolvers.globalid import encode_id
from schema.divisions import ServiceOrg
from schema.execution import ReadyLeavesExecutionContext
from schema.matters import Material, Matter, MatterImplementation
from tests.conftest import GraphQLClient

PAGE = """
query($first: Int, $withCode: Boolean!) {
  matterImplementations(first: $first, filter: {level: COUNTY, status: PUBLISHED}) {
    __typename
    edges { cursor node {
      __typename code: implementationCode implementationCode @include(if: $withCode)
      basicCode @skip(if: $withCode) handlingKind promiseExceptionReason
      materials { name form satisfiedByLicenceType } } }
  }
}"""
ROUTES = """
query($first: Int) {
  serviceRoutes(divisionCode: "140702101201", first: $first) {
    edges { node { villageModes maxVisits onlineLevel matter { basicCode name type }
      implementation { implementationCode materials { name form } }
      decidedAt { name level } path { name } delegation { legalInstrument } } }
  }
}"""
HIDDEN = """
query {
  matterImplementations(first: 5, filter: {level: COUNTY, status: PUBLISHED}) {
    nodes { implementationCode matter { name } }
    edges { node { implementationCode org { name } } }
  }
}"""


@pytest.fixture
def fields_completed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The fields graphql-core's own ``execute_field`` runs."""
    seen: list[str] = []
    original = Executor.execute_field

    def counting(self: Any, parent_type: Any, source: Any, details: Any, *a: Any) -> Any:
        seen.append(details[0].node.name.value)
        return original(self, parent_type, source, details, *a)

    monkeypatch.setattr(Executor, "execute_field", counting)
    yield seen


def no_plans(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on, no selection set has a plan: graphql-core completes every object."""
    monkeypatch.setattr(ReadyLeavesExecutionContext, "_compile", lambda *_: None)


def _answer(body: dict[str, Any]) -> tuple[Any, list[Any]]:
    errors = sorted(
        (tuple(e["path"]), e["message"], e["extensions"].get("code"))
        for e in body.get("errors", [])
    )
    return body.get("data"), errors


async def test_a_page_is_answered_by_its_plan_as_graphql_core_answers_it(
    gql: GraphQLClient, fields_completed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = [
        (PAGE, {"first": 50, "withCode": True}),
        (PAGE, {"first": 50, "withCode": False}),
        (ROUTES, {"first": 50}),
    ]
    walked = []
    for query, variables in asked:
        fields_completed.clear()
        walked.append(_answer(await gql(query, variables)))
        # the top-level field only: no field of the page's items took graphql-core's path
        assert len(fields_completed) <= 2, fields_completed
    no_plans(monkeypatch)
    completed = [_answer(await gql(query, variables)) for query, variables in asked]
    assert walked == completed
    (items, errors), (without_code, _), (routes, _) = walked
    assert not errors
    edges = items["matterImplementations"]["edges"]
    assert len(edges) == 50 and items["matterImplementations"]["__typename"]
    node = edges[0]["node"]
    assert list(node) == [
        "__typename",
        "code",
        "implementationCode",
        "handlingKind",
        "promiseExceptionReason",
        "materials",
    ]
    assert "basicCode" in without_code["matterImplementations"]["edges"][0]["node"]
    # nullable leaves that are null answer null, as graphql-core completes them
    assert any(e["node"]["promiseExceptionReason"] is None for e in edges)
    materials = [m for e in edges for m in e["node"]["materials"]]
    assert any(m["satisfiedByLicenceType"] is None for m in materials)
    assert any(e["node"]["villageModes"] for e in routes["serviceRoutes"]["edges"])


def _hidden(self: object) -> Target:
    """A catalogue object nobody outside the county's staff may read."""
    return Target(Resource.DRAFT_ITEM, division_code="140702000000")


async def test_the_guard_hides_and_refuses_the_same_objects_by_plan(
    gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Matter, "authz_target", _hidden)
    monkeypatch.setattr(ServiceOrg, "authz_target", _hidden)
    walked = _answer(await gql(HIDDEN))
    no_plans(monkeypatch)
    assert walked == _answer(await gql(HIDDEN))
    data, errors = walked
    # ``org`` is non-null: refused at each item, the page nulled with it
    assert data is None
    assert {path[-1] for path, _, _ in errors} == {"org"}
    assert {code for _, _, code in errors} == {"UNAUTHENTICATED"}


def test_an_item_made_from_its_row_is_the_one_its_init_makes() -> None:
    """``MatterImplementation.from_row`` sets what the dataclass's ``__init__`` sets (its
    ``id`` when first read), ``Material.from_row`` likewise."""
    row = SimpleNamespace(
        code="X1",
        basic_code="000000000001",
        level=Level.COUNTY,
        division_code="140702000000",
        handling_kind=HandlingKind.PROMISED,
        promised_time_limit_days=3,
        promise_exception_reason=None,
        conditions="c",
        max_visits=0,
        online_level=OnlineLevel.FULLY_ONLINE,
        preliminary_review=False,
        referral_limit_days=None,
        issues_licence_type=None,
        status=MatterStatus.PUBLISHED,
        version=1,
        org_code="o",
        department_id=None,
        delegated_from=None,
        delegation_id=None,
    )
    made = MatterImplementation.from_row(row)
    assert "id" not in vars(made)
    built = MatterImplementation(
        id=strawberry.ID(encode_id("MatterImplementation", row.division_code, row.code)),
        implementation_code=row.code,
        basic_code=row.basic_code,
        level=row.level,
        division_code=row.division_code,
        handling_kind=row.handling_kind,
        promised_time_limit_days=3,
        promise_exception_reason=None,
        conditions="c",
        max_visits=0,
        online_level=row.online_level,
        preliminary_review=False,
        referral_limit_days=None,
        issues_licence_type=None,
        status=row.status,
        version=1,
        org_code="o",
        department_id=None,
        delegated_from_code=None,
        delegation_id=None,
        row=row,
    )
    assert made.id == built.id and vars(made) == vars(built)
    with pytest.raises(AttributeError):
        _ = made.nothing  # type: ignore[attr-defined]
    material = SimpleNamespace(
        name="n",
        basis="b",
        form="ORIGINAL",
        copies=1,
        tolerable=False,
        satisfied_by_licence_type=None,
    )
    assert vars(Material.from_row(material)) == vars(
        Material(
            name="n",
            basis="b",
            form="ORIGINAL",  # type: ignore[arg-type]
            copies=1,
            tolerable=False,
            satisfied_by_licence_type=None,
        )
    )
