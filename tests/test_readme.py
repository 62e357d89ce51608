"""Every GraphQL example in the README runs against the demo city without errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import GraphQLClient

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
EXAMPLES = re.findall(r"```graphql\n(.*?)```", README, flags=re.S)


def test_the_readme_has_an_example_for_every_query_field() -> None:
    sdl = (Path(__file__).resolve().parents[1] / "schema.graphql").read_text(encoding="utf-8")
    query_type = sdl.split("type Query {", 1)[1].split("\n}", 1)[0]
    fields = re.findall(r"^  (\w+)[(:]", query_type, flags=re.M)
    assert fields
    for name in fields:
        assert any(re.search(rf"\b{name}\s*\(", ex) for ex in EXAMPLES), f"no example of {name}"


@pytest.mark.parametrize(
    "example", EXAMPLES, ids=lambda e: e.split("{", 2)[1].split("(")[0].strip()
)
async def test_example_runs(gql: GraphQLClient, example: str) -> None:
    body = await gql(example)
    assert "errors" not in body, body
    assert all(value for value in body["data"].values()), body
