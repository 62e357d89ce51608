"""Every GraphQL example in the README runs against the demo city without errors, and
every operation of the schema is documented there.

An example whose first line is ``# as: <username>`` runs signed in as that demo
account (password ``govhub-demo-2026``). A subscription runs over graphql-transport-ws
(as a browser would follow it) and must give its first result without errors."""

from __future__ import annotations

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
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLES = re.findall(r"```graphql\n(.*?)```", README, flags=re.S)
# the notes waiting to be folded into the docs site document operations too
NOTES = "\n".join(p.read_text(encoding="utf-8") for p in sorted(ROOT.glob("docs/notes/*.md")))


def _fields(type_name: str) -> list[str]:
    sdl = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    body = sdl.split(f"type {type_name} {{", 1)[1].split("\n}", 1)[0]
    # descriptions may start a line with words and a colon too ("转报: …")
    body = re.sub(r'"""(.*?)"""', "", body, flags=re.S)
    return re.findall(r"^  (\w+)[(:]", body, flags=re.M)


def test_the_readme_has_an_example_for_every_query_field() -> None:
    fields = _fields("Query")
    assert "me" in fields
    for name in fields:
        assert any(re.search(rf"\b{name}\s*[({{]", ex) for ex in EXAMPLES), f"no example of {name}"


def test_the_readme_has_an_example_for_every_subscription_field() -> None:
    fields = _fields("Subscription")
    assert "caseUpdated" in fields
    for name in fields:
        assert any(
            _is_subscription(ex) and re.search(rf"\b{name}\s*[({{]", ex) for ex in EXAMPLES
        ), f"no example of {name}"


def test_the_readme_documents_every_mutation() -> None:
    fields = _fields("Mutation")
    assert "login" in fields
    for name in fields:
        documented = re.search(rf"\b{name}\b", README) or re.search(rf"\b{name}\b", NOTES)
        assert documented, f"neither the README nor docs/notes mentions {name}"


def _signed_in_as(example: str) -> str | None:
    first = example.lstrip().splitlines()[0]
    match = re.match(r"#\s*as:\s*(\S+)", first)
    return match.group(1) if match else None


def _is_subscription(example: str) -> bool:
    return any(
        isinstance(d, OperationDefinitionNode) and d.operation is OperationType.SUBSCRIPTION
        for d in parse(example).definitions
    )


async def _first_result_over_websocket(app: Any, example: str, token: str) -> dict[str, Any]:
    async with (
        ASGIWebSocketTransport(app) as transport,
        httpx.AsyncClient(transport=transport, base_url="http://govhub.test") as client,
        aconnect_ws("/graphql", client, subprotocols=["graphql-transport-ws"]) as ws,
    ):
        await ws.send_json(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        )
        assert (await ws.receive_json(timeout=10))["type"] == "connection_ack"
        await ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": example}})
        message: dict[str, Any] = await ws.receive_json(timeout=10)
        await ws.send_json({"id": "1", "type": "complete"})
    assert message["type"] == "next", message
    payload: dict[str, Any] = message["payload"]
    return payload


@pytest.mark.parametrize(
    "example", EXAMPLES, ids=lambda e: e.split("{", 2)[1].split("(")[0].strip()
)
async def test_example_runs(app: Any, gql: GraphQLClient, example: str) -> None:
    username = _signed_in_as(example)
    token = (await signed_in(gql, username))["accessToken"] if username else ""
    if _is_subscription(example):
        body = await _first_result_over_websocket(app, example, token)
    else:
        body = await gql(example, **(bearer(token) if token else {}))
    assert "errors" not in body, body
    assert all(value for value in body["data"].values()), body
    # a mutation's example succeeds: its payload carries no user error
    for value in body["data"].values():
        if isinstance(value, dict) and "errors" in value:
            assert value["errors"] == [], value
