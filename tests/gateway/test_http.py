"""The HTTP surface: GraphQL transport, health, metrics, the committed SDL."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import httpx
import pytest

from gateway.app import create_app
from gateway.nodes import NodeRegistry
from gateway.settings import Mode, Settings
from schema.build import export_sdl
from tests.support.served import unavailable

ROOT = Path(__file__).resolve().parents[2]


async def test_committed_sdl_matches_the_code() -> None:
    committed = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert export_sdl() == committed, "run `make schema` and commit schema.graphql"


async def test_queries_work_over_get_and_post(http: httpx.AsyncClient) -> None:
    query = '{ division(code: "140700000000") { name } }'
    got = await http.get("/graphql", params={"query": query})
    posted = await http.post("/graphql", json={"query": query})
    assert got.status_code == posted.status_code == 200
    assert got.json() == posted.json() == {"data": {"division": {"name": "晋中市"}}}


async def test_unparsable_requests_are_400_not_500(http: httpx.AsyncClient) -> None:
    bad_json = await http.post(
        "/graphql", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert bad_json.status_code == 400
    no_query = await http.post("/graphql", json={"variables": {}})
    assert no_query.status_code == 400


async def test_syntax_errors_and_unknown_fields_are_reported(http: httpx.AsyncClient) -> None:
    for query in ("{ division(code: ", "{ nothingHere }"):
        response = await http.post("/graphql", json={"query": query})
        assert response.status_code in (200, 400)
        assert response.json()["errors"][0]["message"]


async def test_health_and_metrics(http: httpx.AsyncClient) -> None:
    assert (await http.get("/health/live")).json() == {"status": "ok"}
    ready = await http.get("/health/ready")
    assert ready.status_code == 200 and ready.json()["ready"] is True
    await http.post("/graphql", json={"query": "{ __typename }"})
    metrics = (await http.get("/metrics")).text
    assert 'govhub_http_requests_total{route="/graphql",status="200"}' in metrics


async def test_graphiql_is_served_in_dev_mode_only(
    http: httpx.AsyncClient, settings: Settings, nodes: NodeRegistry
) -> None:
    page = await http.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    prod = create_app(settings.model_copy(update={"mode": Mode.PROD}), nodes=nodes)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=prod), base_url="http://govhub.test"
    ) as client:
        hidden = await client.get("/graphql", headers={"accept": "text/html"})
        assert "graphiql" not in hidden.text.lower()


async def test_a_request_returns_every_connection_to_its_pool(
    http: httpx.AsyncClient, nodes: NodeRegistry
) -> None:
    query = '{ serviceRoutes(divisionCode: "140702101201", first: 50) { edges { node { '
    query += "matter { name } decidedAt { name } implementation { materials { name } } } } } }"
    response = await http.post("/graphql", json={"query": query})
    assert response.status_code == 200 and "errors" not in response.json()
    assert {s.name: s.engine.pool.checkedout() for s in nodes.stores()} == {  # type: ignore[attr-defined]
        s.name: 0 for s in nodes.stores()
    }


async def test_unexpected_failures_are_masked_in_prod_and_never_a_500(
    settings: Settings, nodes: NodeRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(**_kwargs: object) -> None:
        raise RuntimeError("secret detail: connection string postgres://admin:pw@db")

    monkeypatch.setattr("levels.city.service.search_matters", broken)
    prod = create_app(settings.model_copy(update={"mode": Mode.PROD}), nodes=nodes)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=prod), base_url="http://govhub.test"
    ) as client:
        response = await client.post("/graphql", json={"query": "{ matters { edges { cursor } } }"})
        typed = await client.post("/graphql", json={"query": '{ division(code: "1") { name } }'})
    assert response.status_code == 200
    (error,) = response.json()["errors"]
    assert error["message"] == "内部错误" and "secret" not in response.text
    # typed domain errors still reach the client in prod
    assert typed.json()["errors"][0]["extensions"]["code"] == "INVALID_DIVISION_CODE"


async def test_readiness_names_the_message_engine_and_fails_without_nats(
    http: httpx.AsyncClient, settings: Settings, nodes: NodeRegistry
) -> None:
    """/health/ready says which engine carries messages between the nodes; with NATS as
    the engine, a NATS that does not answer makes the hub not ready (503), one that
    answers (the server of these machines and of CI) ready."""
    default = (await http.get("/health/ready")).json()
    assert default["messages"] == {"transport": settings.message_transport, "up": True}

    async def ready_with(url: str) -> httpx.Response:
        changed = {"message_transport": "nats", "nats_url": url, "node_timeout_seconds": 2.0}
        app = create_app(settings.model_copy(update=changed), nodes=nodes)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://govhub.test") as c:
            return await c.get("/health/ready")

    # a port nothing listens on (taken and released by this test)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    down = await ready_with(f"nats://127.0.0.1:{free}")
    assert down.status_code == 503
    assert down.json()["messages"] == {"transport": "nats", "up": False}
    assert all(down.json()["stores"].values())  # the stores are fine: the engine is not

    url = os.environ.get("GOVHUB_TEST_NATS_URL", "nats://127.0.0.1:4222")
    up = await ready_with(url)
    if up.status_code != 200:
        unavailable(f"no NATS server at {url}", "start nats-server -js")
    assert up.status_code == 200 and up.json()["messages"] == {"transport": "nats", "up": True}
