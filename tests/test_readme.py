"""Every GraphQL example in the README runs against the demo city without errors, and
every operation of the schema is documented there.

An example whose first line is ``# as: <username>`` runs signed in as that demo
account (password ``govhub-demo-2026``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.auth.conftest import bearer, signed_in
from tests.conftest import GraphQLClient

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLES = re.findall(r"```graphql\n(.*?)```", README, flags=re.S)


def _fields(type_name: str) -> list[str]:
    sdl = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    body = sdl.split(f"type {type_name} {{", 1)[1].split("\n}", 1)[0]
    return re.findall(r"^  (\w+)[(:]", body, flags=re.M)


def test_the_readme_has_an_example_for_every_query_field() -> None:
    fields = _fields("Query")
    assert "me" in fields
    for name in fields:
        assert any(re.search(rf"\b{name}\s*[({{]", ex) for ex in EXAMPLES), f"no example of {name}"


def test_the_readme_documents_every_mutation() -> None:
    fields = _fields("Mutation")
    assert "login" in fields
    for name in fields:
        assert re.search(rf"\b{name}\b", README), f"the README never mentions {name}"


def _signed_in_as(example: str) -> str | None:
    first = example.lstrip().splitlines()[0]
    match = re.match(r"#\s*as:\s*(\S+)", first)
    return match.group(1) if match else None


@pytest.mark.parametrize(
    "example", EXAMPLES, ids=lambda e: e.split("{", 2)[1].split("(")[0].strip()
)
async def test_example_runs(gql: GraphQLClient, example: str) -> None:
    headers: dict[str, str] = {}
    username = _signed_in_as(example)
    if username is not None:
        headers = bearer((await signed_in(gql, username))["accessToken"])
    body = await gql(example, **headers)
    assert "errors" not in body, body
    assert all(value for value in body["data"].values()), body
