"""Persisted queries: APQ miss → register → hit (in Redis on the PostgreSQL pass, seen by
another replica), GET with a hash, a hash that is not the query's, the trusted
documents of the manifest, and the prod switch that runs only those."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from gateway.nodes import NodeRegistry
from gateway.persisted import example_documents, load_manifest, sha256_of
from gateway.settings import Settings
from levels.common.clock import FixedClock
from tests.schema.test_subscriptions import signed_in_socket, token_of
from tests.support.hub import client, hub

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "gateway" / "trusted_documents.json"


def apq(digest: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


def apq_params(digest: str) -> dict[str, str]:
    return {"extensions": orjson.dumps(apq(digest)).decode()}


# what Apollo Client sends (a GET without a query and with */* would get GraphiQL in dev)
ACCEPT = {"accept": "application/graphql-response+json,application/json;q=0.9"}


def codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json().get("errors", [])]


@pytest.fixture
def env(settings: Settings, nodes: NodeRegistry, clock: FixedClock) -> Any:
    def make(**changes: Any) -> Any:
        return hub(settings, nodes, clock, **changes)

    return make


async def test_apq_miss_register_hit(env: Any, backend: str) -> None:
    # a query of its own: no other test (or run) has registered it
    query = '{ division(code: "140700000000") { name code } } # ' + str(id(env))
    digest = sha256_of(query)
    async with env() as app, client(app) as http:
        miss = await http.post("/graphql", json={"extensions": apq(digest)})
        assert miss.status_code == 200
        assert codes(miss) == ["PERSISTED_QUERY_NOT_FOUND"]
        assert "PersistedQueryNotFound" in miss.json()["errors"][0]["message"]
        registered = await http.post("/graphql", json={"query": query, "extensions": apq(digest)})
        assert registered.json() == {
            "data": {"division": {"name": "晋中市", "code": "140700000000"}}
        }
        hit = await http.post("/graphql", json={"extensions": apq(digest)})
        assert hit.json() == registered.json()
        got = await http.get("/graphql", params=apq_params(digest), headers=ACCEPT)
        assert got.status_code == 200 and got.json() == registered.json()
    # another replica: the same Redis knows it; an in-process store does not
    async with env() as replica, client(replica) as http:
        other = await http.post("/graphql", json={"extensions": apq(digest)})
        if backend == "postgres":
            assert other.json() == registered.json()
        else:
            assert codes(other) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_a_hash_must_be_the_querys(env: Any) -> None:
    query = "{ __typename }"
    async with env() as app, client(app) as http:
        wrong = await http.post(
            "/graphql", json={"query": query, "extensions": apq(sha256_of(query + " "))}
        )
        assert codes(wrong) == ["PERSISTED_QUERY_HASH_MISMATCH"]
        # and nothing was registered under the wrong hash
        again = await http.post("/graphql", json={"extensions": apq(sha256_of(query + " "))})
        assert codes(again) == ["PERSISTED_QUERY_NOT_FOUND"]
        version = await http.post(
            "/graphql",
            json={"extensions": {"persistedQuery": {"version": 2, "sha256Hash": "ab"}}},
        )
        assert codes(version) == ["PERSISTED_QUERY_NOT_SUPPORTED"]


async def test_a_mutation_by_hash_over_get_is_still_refused(env: Any) -> None:
    login = next(q for q in load_manifest(MANIFEST).values() if q.lstrip().startswith("mutation"))
    async with env() as app, client(app) as http:
        got = await http.get(
            "/graphql",
            params=apq_params(sha256_of(login)),
            headers=ACCEPT,
        )
    assert got.status_code == 405


async def test_trusted_documents_only(env: Any) -> None:
    manifest = load_manifest(MANIFEST)
    digest, query = next((d, q) for d, q in manifest.items() if "serviceRoutes" in q)
    other = "{ __typename }"
    async with env(persisted_only=True) as app, client(app) as http:
        by_hash = await http.post("/graphql", json={"extensions": apq(digest)})
        assert by_hash.status_code == 200 and "errors" not in by_hash.json()
        in_full = await http.post("/graphql", json={"query": query})
        assert in_full.json() == by_hash.json()
        refused = await http.post("/graphql", json={"query": other})
        assert codes(refused) == ["PERSISTED_QUERY_REQUIRED"] and "data" not in refused.json()
        # APQ may not register a document of its own
        register = await http.post(
            "/graphql", json={"query": other, "extensions": apq(sha256_of(other))}
        )
        assert codes(register) == ["PERSISTED_QUERY_REQUIRED"]
    async with env(persisted_only=True, persisted_only_allows_apq=True) as app, client(app) as http:
        register = await http.post(
            "/graphql", json={"query": other, "extensions": apq(sha256_of(other))}
        )
        assert register.json() == {"data": {"__typename": "Query"}}


async def test_trusted_documents_only_over_a_websocket_too(env: Any, gql: Any) -> None:
    manifest = load_manifest(MANIFEST)
    query = next(q for q in manifest.values() if "serviceRoutes" in q)
    token = await token_of(gql, "resident1")
    async with env(persisted_only=True) as app, signed_in_socket(app, token) as socket:
        refused = await socket.next_payload(await socket.subscribe("{ __typename }"))
        assert refused["data"] is None
        assert [e["extensions"]["code"] for e in refused["errors"]] == ["PERSISTED_QUERY_REQUIRED"]
        # the connection stays open, and a document of the manifest runs on it
        ran = await socket.next_payload(await socket.subscribe(query))
        assert "errors" not in ran and ran["data"]["serviceRoutes"]["edges"]


def test_the_manifest_holds_every_docs_example() -> None:
    examples = example_documents(ROOT / "docs" / "examples")
    assert len(examples) >= 41
    missing = set(examples) - set(load_manifest(MANIFEST))
    assert not missing, "run `python -m gateway.persisted` and commit the manifest"


def test_a_manifest_whose_hash_is_not_its_documents_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "manifest.json"
    bad.write_bytes(orjson.dumps({"0" * 64: "{ __typename }"}))
    with pytest.raises(ValueError, match="SHA-256"):
        load_manifest(bad)
