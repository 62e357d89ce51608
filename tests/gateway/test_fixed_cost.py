"""What a request no longer does on every call, and what it still gets: the cost of a
document measured once per page size, a request's loaders made on first use, Strawberry's
hooks found once per extension class, metrics children made once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import ClassVar

import pytest
from graphql import parse
from strawberry.extensions import SchemaExtension

from gateway.cost import Measured, Pricing, measure
from gateway.metrics import Metrics
from resolvers.level_loader import LevelLoader
from resolvers.loaders import DivisionByCodeLoader, Loaders
from resolvers.sessions import RequestSessions
from schema.build import build_schema

PRICING = Pricing(20, 100)
PAGED = """
query Cases($first: Int, $code: String!) {
  division(code: $code) { name }
  cases(first: $first) { edges { node { number events { kind } } } }
}
"""


@pytest.mark.parametrize(
    "variables",
    [
        {"first": 5, "code": "1"},
        {"first": 100, "code": "2"},
        {"first": 5000, "code": "3"},
        {"first": None, "code": "4"},
        {"first": "5", "code": "5"},
        {"first": True, "code": "6"},
        {"code": "7"},
        None,
    ],
)
def test_remembered_figures_are_the_measured_ones(variables: dict[str, object] | None) -> None:
    schema = build_schema()._schema
    document = parse(PAGED)
    measured = Measured()
    for sizes in ({"first": 1}, variables, {"first": 50}, variables):
        assert measured.figures(schema, document, "Cases", sizes, PRICING) == measure(
            schema, document, "Cases", sizes, PRICING
        )


def test_a_page_size_changes_the_remembered_cost() -> None:
    schema = build_schema()._schema
    document = parse(PAGED)
    measured = Measured()
    small = measured.figures(schema, document, None, {"first": 2}, PRICING)
    large = measured.figures(schema, document, None, {"first": 90}, PRICING)
    assert large.cost > small.cost
    # the same text parsed again is another document: measured, not mistaken
    again = measured.figures(schema, parse(PAGED), None, {"first": 2}, PRICING)
    assert again == small


async def test_loaders_are_made_on_first_use_and_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[type] = []
    init = LevelLoader.__init__

    def counting(self: LevelLoader, *args: object, **kwargs: object) -> None:
        made.append(type(self))
        init(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(LevelLoader, "__init__", counting)
    sessions = RequestSessions(object())  # type: ignore[arg-type]
    loaders = Loaders.create(sessions, 2.5)
    assert made == []
    first = loaders.division_by_code
    assert isinstance(first, DivisionByCodeLoader)
    assert loaders.division_by_code is first
    assert first.sessions is sessions and first.timeout == 2.5
    assert made == [DivisionByCodeLoader]
    # another request's set has loaders (and caches) of its own
    assert Loaders.create(sessions, 2.5).division_by_code is not first


class Recording(SchemaExtension):
    seen: ClassVar[list[str]] = []

    def on_operation(self) -> Iterator[None]:
        Recording.seen.append("operation")
        yield
        Recording.seen.append("operation done")

    def on_parse(self) -> None:  # type: ignore[override]
        # a plain function, not a generator: left to Strawberry's own wrapping
        Recording.seen.append("parse")

    async def on_execute(self) -> AsyncIterator[None]:
        Recording.seen.append("execute")
        yield
        Recording.seen.append("execute done")


async def test_hooks_found_once_per_class_run_for_every_operation() -> None:
    schema = build_schema(limits=[Recording])
    Recording.seen = []
    for _ in range(2):
        result = await schema.execute("{ __typename }")
        assert result.errors is None and result.data == {"__typename": "Query"}
    assert (
        Recording.seen
        == [
            "operation",
            "parse",
            "execute",
            "execute done",
            "operation done",
        ]
        * 2
    )


def test_metrics_children_are_the_labelled_series() -> None:
    metrics = Metrics.create()
    metrics.observe_node("county-1", 0.01, None)
    metrics.observe_node("county-1", 0.02, "TimeoutError")
    assert metrics.child(metrics.node_calls, "county-1") is metrics.node_calls.labels("county-1")
    sample = metrics.registry.get_sample_value
    assert sample("govhub_node_calls_total", {"node": "county-1"}) == 2
    assert sample("govhub_node_errors_total", {"node": "county-1"}) == 1
