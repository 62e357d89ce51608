"""The document cache: a document the hub has seen is neither parsed nor validated
again; the limits still judge every request, a refused document never reaches the
standard rules, and an invalid one is refused every time, with its own errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import graphql
import pytest
from strawberry.schema import schema as strawberry_schema

from bench.protections import bare_app
from gateway.documents import Documents
from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.common.clock import FixedClock
from tests.support.hub import client, hub

DIVISION = '{ division(code: "140702000000") { name parent { name } } }'
UNKNOWN_FIELD = '{ division(code: "140702000000") { nmae } }'
TOO_DEEP = '{ division(code: "140702100000") { parent { parent { name } } } }'


@pytest.fixture
def steps(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """How often the hub parsed a document and ran the standard rules."""
    counts = {"parse": 0, "validate": 0}
    parse, validate = strawberry_schema.parse, strawberry_schema.validate_document

    def counting_parse(*args: Any, **kwargs: Any) -> Any:
        counts["parse"] += 1
        return parse(*args, **kwargs)

    def counting_validate(*args: Any, **kwargs: Any) -> Any:
        counts["validate"] += 1
        return validate(*args, **kwargs)

    monkeypatch.setattr(strawberry_schema, "parse", counting_parse)
    monkeypatch.setattr(strawberry_schema, "validate_document", counting_validate)
    yield counts


def codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


async def test_a_document_is_parsed_and_validated_once(
    settings: Settings, nodes: NodeRegistry, clock: FixedClock, steps: dict[str, int]
) -> None:
    async with hub(settings, nodes, clock) as app, client(app) as http:
        answers = [(await http.post("/graphql", json={"query": DIVISION})).json() for _ in "abc"]
    assert answers[0]["data"]["division"]["parent"]["name"] == "晋中市"
    assert answers[1:] == answers[:2]
    assert steps == {"parse": 1, "validate": 1}


async def test_the_bare_view_of_the_bench_keeps_the_cache(
    settings: Settings, nodes: NodeRegistry, clock: FixedClock, steps: dict[str, int]
) -> None:
    """The view the speed table times the hub against (``bench.serve bare``) has none of
    the protections but this cache, as the hub: they differ only by the protections."""
    async with hub(settings, nodes, clock) as app, client(bare_app(app)) as http:
        answers = [(await http.post("/graphql", json={"query": DIVISION})).json() for _ in "abc"]
    assert answers[0]["data"]["division"]["parent"]["name"] == "晋中市"
    assert answers[1:] == answers[:2]
    assert steps == {"parse": 1, "validate": 1}


async def test_an_invalid_document_is_refused_every_time(
    settings: Settings, nodes: NodeRegistry, clock: FixedClock, steps: dict[str, int]
) -> None:
    async with hub(settings, nodes, clock) as app, client(app) as http:
        bodies = [(await http.post("/graphql", json={"query": UNKNOWN_FIELD})).json() for _ in "ab"]
    assert [len(b["errors"]) for b in bodies] == [1, 1]
    assert "nmae" in bodies[1]["errors"][0]["message"] and "data" not in bodies[1]
    assert bodies[0] == bodies[1]
    # parsed once, validated each time: only a valid document is remembered as valid
    assert steps == {"parse": 1, "validate": 2}


async def test_the_limits_judge_every_request_before_the_rules(
    settings: Settings, nodes: NodeRegistry, clock: FixedClock, steps: dict[str, int]
) -> None:
    async with hub(settings, nodes, clock, max_depth=3) as app, client(app) as http:
        bodies = [(await http.post("/graphql", json={"query": TOO_DEEP})).json() for _ in "ab"]
    assert [codes(b) for b in bodies] == [["QUERY_TOO_DEEP"]] * 2
    # refused by the limits: the standard rules never ran on it
    assert steps["validate"] == 0


def test_the_cache_is_bounded() -> None:
    documents = Documents(maxsize=2)
    for n in range(5):
        documents.put(f"{{ a{n} }}", {}, graphql.parse(f"{{ a{n} }}"))
    assert len(documents) == 2 and documents.get("{ a0 }", {}) is None
