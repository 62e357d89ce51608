"""Limits on an operation, checked before it runs: each just under and just over its
setting, refused with a typed code, never a 500; prod mode's introspection, suggestions
and masked errors; batches; and the docs' examples within the default limits."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import parse

from gateway.cost import Pricing, measure
from gateway.nodes import NodeRegistry
from gateway.settings import Mode, Settings
from levels.common.clock import FixedClock
from schema.build import build_schema
from tests.support.hub import client, hub

ROOT = Path(__file__).resolve().parents[2]
JINZHONG = "140700000000"
YUCI_TOWN = "140702100000"


def chain(depth: int) -> str:
    """``division`` then parents: ``depth`` fields deep, the last one ``name``."""
    inner = "name"
    for _ in range(depth - 2):
        inner = f"parent {{ {inner} }}"
    return f'{{ division(code: "{YUCI_TOWN}") {{ {inner} }} }}'


# 1 + first × (edges 1 + node 1 + parent 1) = 1 + 3 × first
TOWNS = """
query Towns($first: Int) {
  divisions(level: TOWN, first: $first) { edges { node { name parent { name } } } }
}
"""


def codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


async def post(http: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def env(settings: Settings, nodes: NodeRegistry, clock: FixedClock) -> Any:
    def make(**changes: Any) -> Any:
        return hub(settings, nodes, clock, **changes)

    return make


async def test_depth_counts_through_fragments(env: Any) -> None:
    async with env(max_depth=5) as app, client(app) as http:
        assert "errors" not in await post(http, chain(5))
        body = await post(http, chain(6))
        assert codes(body) == ["QUERY_TOO_DEEP"]
        assert (
            body["errors"][0]["extensions"] | {"limit": 5, "value": 6}
            == body["errors"][0]["extensions"]
        )
        # the same six levels, four of them in fragments
        fragments = f"""
        {{ division(code: "{YUCI_TOWN}") {{ ...Up }} }}
        fragment Up on Division {{ parent {{ ...Up2 }} }}
        fragment Up2 on Division {{ parent {{ parent {{ parent {{ name }} }} }} }}
        """
        assert codes(await post(http, fragments)) == ["QUERY_TOO_DEEP"]
        # a fragment cycle is refused by validation, not followed forever
        cycle = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }"
        body = await post(http, cycle)
        assert body["errors"] and "data" not in body


async def test_aliases_count_the_expanded_document(env: Any) -> None:
    async with env(max_aliases=5) as app, client(app) as http:
        five = "{ " + " ".join(f"a{i}: __typename" for i in range(5)) + " }"
        six = "{ " + " ".join(f"a{i}: __typename" for i in range(6)) + " }"
        assert "errors" not in await post(http, five)
        body = await post(http, six)
        assert codes(body) == ["TOO_MANY_ALIASES"]
        assert body["errors"][0]["extensions"]["value"] == 6
        # four aliases written, six once F is spread twice: an alias bomb in miniature
        bomb = f"""
        {{ division(code: "{YUCI_TOWN}") {{ ...G }} }}
        fragment F on Division {{ x1: name x2: code }}
        fragment G on Division {{ up1: parent {{ ...F }} up2: parent {{ ...F }} }}
        """
        body = await post(http, bomb)
        assert codes(body) == ["TOO_MANY_ALIASES"]
        assert body["errors"][0]["extensions"]["value"] == 6


async def test_a_thousand_aliases_in_nested_fragments_are_refused(env: Any) -> None:
    # 30 aliases written; 10 + 10 × (10 + 10 × 10) = 1,110 once the spreads are expanded
    def parents(inner: str) -> str:
        return " ".join(f"p{i}: parent {{ ...{inner} }}" for i in range(10))

    bomb = f"""
    {{ division(code: "{YUCI_TOWN}") {{ ...L3 }} }}
    fragment L1 on Division {{ {" ".join(f"n{i}: name" for i in range(10))} }}
    fragment L2 on Division {{ {parents("L1")} }}
    fragment L3 on Division {{ {parents("L2")} }}
    """
    async with env() as app, client(app) as http:
        body = await post(http, bomb)
    assert codes(body) == ["TOO_MANY_ALIASES"]
    assert body["errors"][0]["extensions"]["value"] == 1110


async def test_tokens(env: Any) -> None:
    # 2 braces and n fields: n + 2 tokens
    async with env(max_tokens=100, max_root_fields=100) as app, client(app) as http:
        assert "errors" not in await post(http, "{" + " __typename" * 98 + "}")
        body = await post(http, "{" + " __typename" * 99 + "}")
        assert codes(body) == ["TOO_MANY_TOKENS"]
        assert body["errors"][0]["extensions"]["limit"] == 100


async def test_root_fields(env: Any) -> None:
    async with env(max_root_fields=3) as app, client(app) as http:
        three = "{ a: __typename b: __typename c: __typename }"
        assert "errors" not in await post(http, three)
        body = await post(http, "{ a: __typename b: __typename c: __typename d: __typename }")
        assert codes(body) == ["TOO_MANY_ROOT_FIELDS"]


async def test_body_size_is_refused_before_parsing(env: Any) -> None:
    async with env(max_body_bytes=2000) as app, client(app) as http:

        def body(size: int) -> bytes:
            head = b'{"query": "{ __typename }", "variables": {"pad": "'
            return head + b"x" * (size - len(head) - 3) + b'"}}'

        headers = {"content-type": "application/json"}
        under = await http.post("/graphql", content=body(2000), headers=headers)
        assert under.status_code == 200, under.text
        over = await http.post("/graphql", content=body(2001), headers=headers)
        assert over.status_code == 413
        assert codes(over.json()) == ["BODY_TOO_LARGE"]

        async def chunks() -> Any:  # no Content-Length: counted as it arrives
            for _ in range(3):
                yield b" " * 1000

        chunked = await http.post("/graphql", content=chunks(), headers=headers)
        assert chunked.status_code == 413


async def test_cost_per_operation(env: Any) -> None:
    async with env(max_cost=61) as app, client(app) as http:
        body = await post(http, TOWNS, first=20)
        assert "errors" not in body and len(body["data"]["divisions"]["edges"]) == 20
        body = await post(http, TOWNS, first=21)
        assert codes(body) == ["QUERY_TOO_COSTLY"]
        assert (
            body["errors"][0]["extensions"] | {"value": 64, "limit": 61}
            == body["errors"][0]["extensions"]
        )
        # no first: the default page (20)
        assert "errors" not in await post(http, TOWNS)


async def test_a_page_over_the_largest_keeps_its_own_error(env: Any) -> None:
    async with env() as app, client(app) as http:
        body = await post(http, TOWNS, first=101)
    assert codes(body) == ["PAGE_SIZE_TOO_LARGE"]


async def test_cost_budget_per_client_per_minute(env: Any) -> None:
    async with env(cost_budget_per_minute=150) as app:
        async with client(app) as http:
            # 61 and 61 fit in 150; the third would make 183
            assert "errors" not in await post(http, TOWNS, first=20)
            assert "errors" not in await post(http, TOWNS, first=20)
            response = await http.post(
                "/graphql", json={"query": TOWNS, "variables": {"first": 20}}
            )
            body = response.json()
            assert codes(body) == ["COST_BUDGET_EXCEEDED"] and response.status_code == 429
            retry_after = int(response.headers["retry-after"])
            assert 1 <= retry_after <= 61
            assert body["errors"][0]["extensions"]["retryAfter"] == retry_after
            # a cheap query still fits
            assert "errors" not in await post(http, "{ __typename }")
        async with client(app) as other:  # another address has a budget of its own
            assert "errors" not in await post(other, TOWNS, first=20)


async def test_prod_refuses_introspection_but_not_typename(env: Any) -> None:
    async with env(mode=Mode.PROD) as app, client(app) as http:
        for query in ("{ __schema { types { name } } }", '{ __type(name: "Division") { name } }'):
            body = await post(http, query)
            assert codes(body) == ["INTROSPECTION_DISABLED"] and "data" not in body
        assert (await post(http, "{ __typename }"))["data"] == {"__typename": "Query"}
    async with env() as app, client(app) as http:  # dev: GraphiQL needs it
        assert "errors" not in await post(http, "{ __schema { queryType { name } } }")


PROBES = [
    f'{{ divison(code: "{JINZHONG}") {{ name }} }}',  # a field
    f'{{ division(cod: "{JINZHONG}") {{ name }} }}',  # an argument
    "{ divisions(level: TOWNN) { edges { node { name } } } }",  # an enum value
    f'{{ division(code: "{JINZHONG}") {{ nme }} }}',  # a nested field
    "query ($l: Level) { divisions(level: $l) { edges { node { name } } } }",  # a variable
    "{ divisions(levle: TOWN, frist: 2) { edges { node { name } } } }",
]


async def test_prod_never_suggests_a_name(env: Any) -> None:
    async with env(mode=Mode.PROD) as app, client(app) as http:
        for probe in PROBES:
            response = await http.post(
                "/graphql", json={"query": probe, "variables": {"l": "TOWNN"}}
            )
            assert response.status_code == 200
            messages = [e["message"] for e in response.json()["errors"]]
            assert messages and not any("Did you mean" in m for m in messages), messages
    async with env() as app, client(app) as http:  # dev keeps them: the probe can fail
        body = await post(http, PROBES[0])
        assert "Did you mean" in body["errors"][0]["message"]


async def test_prod_masks_unexpected_errors_with_the_request_id(
    env: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from resolvers import catalogue

    async def broken(*_args: Any) -> Any:
        raise RuntimeError("connection string postgres://secret@db")

    monkeypatch.setattr(catalogue, "divisions", broken)
    caplog.set_level(logging.ERROR)
    async with env(mode=Mode.PROD) as app, client(app) as http:
        response = await http.post(
            "/graphql", json={"query": "{ divisions(first: 1) { edges { node { name } } } }"}
        )
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["message"] == "内部错误" and "secret" not in response.text
    request_id = error["extensions"]["requestId"]
    assert error["extensions"]["code"] == "INTERNAL_ERROR" and request_id
    if "x-request-id" in response.headers:
        assert response.headers["x-request-id"] == request_id
    logged = [r for r in caplog.records if request_id in r.getMessage()]
    assert logged, "the masked error's request id is in the log"
    assert any(
        "postgres://secret@db" in (r.getMessage() + str(r.exc_info)) for r in caplog.records
    ), "the full error is in the log"


async def test_batches_are_off_unless_configured_and_capped(env: Any) -> None:
    one = {"query": f'{{ division(code: "{JINZHONG}") {{ name }} }}'}
    two = {"query": "query Two { __typename }", "operationName": "Two"}
    async with env() as app, client(app) as http:
        refused = await http.post("/graphql", json=[one, two])
        assert refused.status_code == 400 and codes(refused.json()) == ["BATCHING_DISABLED"]
    async with env(batch_max=2) as app, client(app) as http:
        answered = await http.post("/graphql", json=[one, two])
        assert answered.status_code == 200
        assert answered.json() == [
            {"data": {"division": {"name": "晋中市"}}},
            {"data": {"__typename": "Query"}},
        ]
        capped = await http.post("/graphql", json=[one, two, one])
        assert capped.status_code == 400


EXAMPLES = sorted((ROOT / "docs" / "examples").glob("*.graphql"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_the_docs_examples_are_within_the_default_limits(path: Path) -> None:
    example = path.read_text(encoding="utf-8")
    defaults = Settings()
    document = parse(example, max_tokens=defaults.max_tokens)
    figures = measure(
        build_schema()._schema,
        document,
        None,
        {},
        Pricing(defaults.default_page_size, defaults.max_page_size),
    )
    assert figures.depth <= defaults.max_depth
    assert figures.aliases <= defaults.max_aliases
    assert figures.fields <= defaults.max_root_fields
    assert figures.cost <= defaults.max_cost
    assert not figures.introspection
