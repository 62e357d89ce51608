"""Every GraphQL example of the documentation runs against the demo city without
errors, and every operation of the schema is documented there.

The examples are files, ``docs/examples/<name>.graphql`` (with its variables in
``<name>.json`` when it takes any), which the pages include (``--8<--``); so what the site
shows is what runs here. An example whose first line is ``# as: <username>`` runs signed
in as that demo account (password ``govhub-demo-2026``). A subscription runs over
graphql-transport-ws (as a browser would follow it) and must give its first result
without errors."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import OperationDefinitionNode, OperationType, parse
from httpx_ws import aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport

from tests.auth.conftest import bearer, signed_in
from tests.conftest import GraphQLClient

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLE_FILES = sorted((DOCS / "examples").glob("*.graphql"))
EXAMPLES = [path.read_text(encoding="utf-8") for path in EXAMPLE_FILES]
# the site's pages (docs/notes/ is not part of the site)
PAGES = {
    path: path.read_text(encoding="utf-8")
    for path in DOCS.rglob("*.md")
    if "notes" not in path.relative_to(DOCS).parts
}
INCLUDE = re.compile(r'^--8<-- "(docs/examples/[^"]+)"$', flags=re.M)


def _fields(type_name: str) -> list[str]:
    sdl = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    body = sdl.split(f"type {type_name} {{", 1)[1].split("\n}", 1)[0]
    # descriptions may start a line with words and a colon too ("转报: …")
    body = re.sub(r'"""(.*?)"""', "", body, flags=re.S)
    return re.findall(r"^  (\w+)[(:]", body, flags=re.M)


def test_there_are_examples_and_every_one_is_on_a_page() -> None:
    assert len(EXAMPLE_FILES) >= 41
    included = {match for text in PAGES.values() for match in INCLUDE.findall(text)}
    for path in EXAMPLE_FILES:
        assert path.relative_to(ROOT).as_posix() in included, f"no page shows {path.name}"
    for name in included:
        assert (ROOT / name).is_file(), f"a page includes {name}, which does not exist"


def test_no_page_holds_a_graphql_example_of_its_own() -> None:
    """A GraphQL block in a page is an include of an example file, which the tests run."""
    for path, text in PAGES.items():
        for block in re.findall(r"```graphql\n(.*?)```", text, flags=re.S):
            assert INCLUDE.fullmatch(block.strip()), f"{path}: inline example {block[:60]!r}"


def test_the_docs_have_an_example_for_every_query_field() -> None:
    fields = _fields("Query")
    assert "me" in fields
    for name in fields:
        assert any(re.search(rf"\b{name}\s*[({{]", ex) for ex in EXAMPLES), f"no example of {name}"


def test_the_docs_have_an_example_for_every_subscription_field() -> None:
    fields = _fields("Subscription")
    assert "caseUpdated" in fields
    for name in fields:
        assert any(
            _is_subscription(ex) and re.search(rf"\b{name}\s*[({{]", ex) for ex in EXAMPLES
        ), f"no example of {name}"


def test_the_docs_document_every_mutation() -> None:
    fields = _fields("Mutation")
    assert "login" in fields
    text = "\n".join(PAGES.values())
    for name in fields:
        assert re.search(rf"\b{name}\b", text), f"no page of the docs mentions {name}"


def _signed_in_as(example: str) -> str | None:
    first = example.lstrip().splitlines()[0]
    match = re.match(r"#\s*as:\s*(\S+)", first)
    return match.group(1) if match else None


def _is_subscription(example: str) -> bool:
    return any(
        isinstance(d, OperationDefinitionNode) and d.operation is OperationType.SUBSCRIPTION
        for d in parse(example).definitions
    )


async def _first_result_over_websocket(
    app: Any, example: str, token: str, variables: dict[str, Any] | None
) -> dict[str, Any]:
    async with (
        ASGIWebSocketTransport(app) as transport,
        httpx.AsyncClient(transport=transport, base_url="http://govhub.test") as client,
        aconnect_ws("/graphql", client, subprotocols=["graphql-transport-ws"]) as ws,
    ):
        await ws.send_json(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        )
        assert (await ws.receive_json(timeout=10))["type"] == "connection_ack"
        await ws.send_json(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": example, "variables": variables or {}},
            }
        )
        message: dict[str, Any] = await ws.receive_json(timeout=10)
        await ws.send_json({"id": "1", "type": "complete"})
    assert message["type"] == "next", message
    payload: dict[str, Any] = message["payload"]
    return payload


def _variables(path: Path) -> dict[str, Any] | None:
    companion = path.with_suffix(".json")
    if not companion.exists():
        return None
    variables: dict[str, Any] = json.loads(companion.read_text(encoding="utf-8"))
    return variables


RUNS = {path.stem: (path.read_text(encoding="utf-8"), _variables(path)) for path in EXAMPLE_FILES}
# the short README shows a query or two of its own: they run too
README = (ROOT / "README.md").read_text(encoding="utf-8")
for n, block in enumerate(re.findall(r"```graphql\n(.*?)```", README, flags=re.S), start=1):
    RUNS[f"README-{n}"] = (block, None)


@pytest.mark.parametrize("name", sorted(RUNS))
async def test_example_runs(app: Any, gql: GraphQLClient, name: str) -> None:
    example, variables = RUNS[name]
    username = _signed_in_as(example)
    token = (await signed_in(gql, username))["accessToken"] if username else ""
    if _is_subscription(example):
        body = await _first_result_over_websocket(app, example, token, variables)
    else:
        body = await gql(example, variables, **(bearer(token) if token else {}))
    assert "errors" not in body, body
    assert all(value for value in body["data"].values()), body
    # a mutation's example succeeds: its payload carries no user error
    for value in body["data"].values():
        if isinstance(value, dict) and "errors" in value:
            assert value["errors"] == [], value
