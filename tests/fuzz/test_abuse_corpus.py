"""Hostile requests a prod hub must refuse cleanly: a 4xx or a typed GraphQL error,
never a 5xx, never a stack trace, never a resolver run for them, never a name of the
schema spelt out. Each entry says what it is and the code it gets (docs/operations/limits.md,
"The endpoint over HTTP")."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.nodes import NodeRegistry
from gateway.settings import Mode, Settings
from tests.auth.conftest import OwnHub, own_hub
from tests.auth.test_clients import ODD_CLAIMS, REFUSED, assertion, token_request

JSON = "application/json"


@pytest.fixture(scope="module")
async def prod(settings: Settings, nodes: NodeRegistry) -> AsyncIterator[OwnHub]:
    async with own_hub(settings, nodes, mode=Mode.PROD) as hub:
        yield hub


Send = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


@dataclass
class Abuse:
    name: str
    send: Send
    # the refusal: its HTTP status and the codes the body may carry (any typed
    # refusal when empty)
    status: int
    codes: frozenset[str] = frozenset()


def post_raw(content: bytes) -> Send:
    return lambda http: http.post("/graphql", content=content, headers={"content-type": JSON})


def post_json(body: Any) -> Send:
    return post_raw(json.dumps(body).encode())


def post_query(query: str, variables: dict[str, Any] | None = None) -> Send:
    return post_json({"query": query, "variables": variables or {}})


def deep_query(depth: int) -> str:
    return (
        '{ division(code: "140700000000") ' + "{ parent " * depth + "{ code }" + " }" * depth + " }"
    )


def many_aliases(count: int) -> str:
    return "{ " + " ".join(f"a{i}: __typename" for i in range(count)) + " }"


def alias_bomb(levels: int) -> str:
    """Ten aliases, each level spreading the one below it twice: 10 × 2^levels aliases
    in a document of a few hundred bytes."""
    fragments = [
        "fragment F0 on Query { " + " ".join(f"a{i}: __typename" for i in range(10)) + " }"
    ]
    for level in range(1, levels + 1):
        fragments.append(f"fragment F{level} on Query {{ ...F{level - 1} ...F{level - 1} }}")
    return f"{{ ...F{levels} }}\n" + "\n".join(fragments)


def nested(depth: int) -> str:
    """A JSON value ``depth`` objects-in-lists deep (twice as many levels)."""
    return '{"a":[' * depth + '"x"' + "]}" * depth


def with_variables(query: str, variables: str) -> Send:
    return post_raw(
        b'{"query": %s, "variables": %s}' % (json.dumps(query).encode(), variables.encode())
    )


CORPUS = [
    Abuse("depth 50", post_query(deep_query(50)), 200, frozenset({"QUERY_TOO_DEEP"})),
    Abuse(
        "1,000 aliases",
        post_query(many_aliases(1000)),
        200,
        # the parser stops at the token limit before the aliases are counted
        frozenset({"TOO_MANY_ALIASES", "TOO_MANY_TOKENS"}),
    ),
    Abuse(
        "alias bomb of nested fragments",
        post_query(alias_bomb(20)),
        200,
        frozenset({"TOO_MANY_ALIASES"}),
    ),
    Abuse(
        "batch of 100 operations",
        post_json([{"query": "{ __typename }"}] * 100),
        400,
        frozenset({"BATCHING_DISABLED"}),
    ),
    Abuse(
        "mutation over GET",
        lambda http: http.get(
            "/graphql",
            params={"query": 'mutation { logout(input: {refreshToken: "x"}) { errors { code } } }'},
        ),
        405,
        frozenset({"MUTATION_OVER_GET"}),
    ),
    Abuse(
        "form-encoded POST (a browser form, CSRF)",
        lambda http: http.post("/graphql", data={"query": "{ __typename }"}),
        415,
        frozenset({"UNSUPPORTED_MEDIA_TYPE"}),
    ),
    Abuse(
        "text/plain POST (a simple CORS request)",
        lambda http: http.post(
            "/graphql",
            content=json.dumps({"query": "{ __typename }"}).encode(),
            headers={"content-type": "text/plain"},
        ),
        415,
        frozenset({"UNSUPPORTED_MEDIA_TYPE"}),
    ),
    Abuse(
        "introspection in prod",
        post_query("{ __schema { types { name fields { name } } } }"),
        200,
        frozenset({"INTROSPECTION_DISABLED"}),
    ),
    Abuse(
        "oversized body",
        post_query("{ __typename }", {"pad": "x" * 200_000}),
        413,
        frozenset({"BODY_TOO_LARGE"}),
    ),
    Abuse(
        "deeply nested variables",
        with_variables(
            "query($q: String) { matters(keyword: $q) { edges { cursor } } }", nested(400)
        ),
        200,
    ),
    Abuse(
        "variables nested past the JSON parser's limit",
        with_variables("{ __typename }", nested(5000)),
        400,
    ),
]


async def node_calls(http: httpx.AsyncClient) -> float:
    """Calls to level nodes the hub has made so far (its /metrics)."""
    text = (await http.get("/metrics")).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "govhub_node_calls"
        for sample in family.samples
        if sample.name == "govhub_node_calls_total"
    )


@pytest.mark.parametrize("abuse", CORPUS, ids=lambda a: a.name)
async def test_refused_cleanly(prod: OwnHub, abuse: Abuse) -> None:
    before = await node_calls(prod.gql.http)
    response = await abuse.send(prod.gql.http)
    assert await node_calls(prod.gql.http) == before, "no level node was asked"
    text = response.text
    assert response.status_code == abuse.status, text[:500]
    assert "Traceback" not in text and 'File "' not in text
    assert "x-request-id" in response.headers
    body = response.json()
    errors = body.get("errors") if isinstance(body, dict) else None
    assert errors, text[:500]
    assert not (body.get("data") or {}), "nothing ran"
    for error in errors:
        # typed, or a validation error raised before any field ran (no path)
        assert (error.get("extensions") or {}).get("code") or not error.get("path"), error
    if abuse.codes:
        assert abuse.codes & {(e.get("extensions") or {}).get("code") for e in errors}, text[:500]


# a misspelt name, and the name a "Did you mean" would give away
PROBES = [
    ('{ divison(code: "140700000000") { name } }', "'division'"),
    ('{ division(cod: "140700000000") { name } }', "'code'"),
    ('{ division(code: "140700000000") { nam } }', "'name'"),
    ("{ divisions(level: CITI) { edges { cursor } } }", "CITY"),
]


@pytest.mark.parametrize(("probe", "secret"), PROBES)
async def test_did_you_mean_probe_learns_no_names_in_prod(
    prod: OwnHub, probe: str, secret: str
) -> None:
    response = await prod.gql.post(probe)
    assert response.status_code in (200, 400), response.text
    messages = " ".join(e["message"] for e in response.json()["errors"])
    assert messages and "Did you mean" not in messages and secret not in messages


async def test_the_same_probe_gets_suggestions_in_dev(gql: Any) -> None:
    response = await gql.post('{ divison(code: "140700000000") { name } }')
    assert "Did you mean" in response.text


async def test_a_request_that_runs_does_ask_the_nodes(prod: OwnHub) -> None:
    """The control of "no level node was asked" above: the counter does move."""
    before = await node_calls(prod.gql.http)
    await prod.gql("{ divisions(first: 1) { edges { cursor } } }")
    assert await node_calls(prod.gql.http) > before


def errors_of_kind(metrics: str, kind: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(metrics)
        if family.name == "govhub_graphql_errors"
        for sample in family.samples
        if sample.name == "govhub_graphql_errors_total" and sample.labels["kind"] == kind
    )


LEVEL = "query($l: Level) { divisions(level: $l, first: 1) { edges { cursor } } }"
PAGE = "query($n: Int!) { divisions(first: $n) { edges { cursor } } }"
FILTER = "query($f: MatterFilter) { matters(filter: $f, first: 1) { edges { cursor } } }"
# variables a client got wrong, and the name a "Did you mean" would give away
BAD_VARIABLES = [
    (LEVEL, {"l": "COUNTI"}, "COUNTY"),
    (PAGE, {"n": "ten"}, "Did you mean"),
    (PAGE, {}, "Did you mean"),
    (FILTER, {"f": {"keywrod": "户籍"}}, "'keyword'"),
]


@pytest.mark.parametrize(
    ("query", "variables", "secret"),
    BAD_VARIABLES,
    ids=["unknown enum value", "a string for an Int!", "missing", "unknown input field"],
)
async def test_bad_variables_are_the_clients_mistake_in_prod(
    prod: OwnHub,
    query: str,
    variables: dict[str, Any],
    secret: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    unexpected = errors_of_kind((await prod.gql.http.get("/metrics")).text, "unexpected")
    response = await prod.gql.post(query, variables)
    assert response.status_code == 200, response.text
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "Did you mean" not in error["message"] and secret not in error["message"]
    # neither logged nor counted as a bug
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    metrics = (await prod.gql.http.get("/metrics")).text
    assert errors_of_kind(metrics, "unexpected") == unexpected
    assert errors_of_kind(metrics, "validation") >= 1


@pytest.mark.parametrize("claims", list(ODD_CLAIMS.values()), ids=list(ODD_CLAIMS))
async def test_the_token_endpoint_refuses_odd_claims_cleanly(
    prod: OwnHub, claims: dict[str, Any]
) -> None:
    """Correctly signed machine-client assertions with claims of the wrong kind: the
    one ``invalid_client`` answer, never a 500 (docs/concepts/identity.md, "County systems")."""
    signed = assertion(prod.app.state.settings, **claims)
    response = await token_request(prod.gql.http, client_assertion=signed)
    assert response.status_code == 401, response.text
    assert response.json() == REFUSED


async def test_a_sound_assertion_gets_a_token_from_the_same_hub(prod: OwnHub) -> None:
    """The control of the refusals above: the same hub does answer a sound one."""
    signed = assertion(prod.app.state.settings)
    assert (await token_request(prod.gql.http, client_assertion=signed)).status_code == 200
