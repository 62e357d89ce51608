"""A node answers the hub only: every call to /graphql carries a hub token signed with
the hub's key for this node, short-lived; anything else is 401. /health answers
without one (an orchestrator's probe has none)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from auth.hub_tokens import (
    HubKey,
    HubTokenInvalid,
    HubTokenSigner,
    HubTokenVerifier,
    KeysAtUrl,
)
from gateway.node_app import hub_signer
from levels.common.errors import DomainError, ErrorCode
from resolvers.nodeclient import NodeClient

ABOUT = {"query": "{ about { id } }"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_call_with_the_hubs_token_is_answered(
    raw: httpx.AsyncClient, signer: HubTokenSigner
) -> None:
    response = await raw.post("/graphql", json=ABOUT, headers=bearer(signer.token("county")))
    assert response.status_code == 200
    assert response.json() == {"data": {"about": {"id": "county"}}}


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Basic aHViOmh1Yg=="}, {"Authorization": "Bearer not-a-jwt"}],
    ids=["none", "basic", "garbage"],
)
async def test_a_call_without_a_hub_token_is_401(
    raw: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await raw.post("/graphql", json=ABOUT, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_token_of_another_key_another_node_or_past_its_end_is_401(
    raw: httpx.AsyncClient, hub_key: HubKey
) -> None:
    stranger = HubTokenSigner(HubKey.generate()).token("county")
    for_town = HubTokenSigner(hub_key).token("town")
    expired = HubTokenSigner(hub_key, seconds=60, now=lambda: 1_000_000.0).token("county")
    for token in (stranger, for_town, expired):
        response = await raw.post("/graphql", json=ABOUT, headers=bearer(token))
        assert response.status_code == 401, token


async def test_health_answers_without_a_token(raw: httpx.AsyncClient) -> None:
    response = await raw.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["node"] == "county"
    assert body["revision"] == body["head"]


async def test_the_client_says_a_node_refusing_the_hub_is_unavailable(
    node_apps: dict[str, Starlette],
) -> None:
    client = NodeClient.in_process(
        "county", node_apps["county"], signer=HubTokenSigner(HubKey.generate())
    )
    async with client:
        with pytest.raises(DomainError) as refused:
            await client.entities("Division", [{"code": "140702000000"}], ["code"])
    assert refused.value.code is ErrorCode.NODE_UNAVAILABLE
    assert "county" in (refused.value.detail or "")


async def test_a_node_slower_than_the_timeout_is_unavailable(signer: HubTokenSigner) -> None:
    async def slow(_request: Request) -> JSONResponse:
        await asyncio.sleep(5)
        return JSONResponse({"status": "ok"})

    app = Starlette(routes=[Route("/health", slow)])
    async with NodeClient.in_process("county", app, signer=signer, timeout=0.05) as client:
        with pytest.raises(DomainError) as failed:
            await client.health()
    assert failed.value.code is ErrorCode.NODE_UNAVAILABLE
    assert failed.value.detail == "node county: no answer within 0.05s"


async def test_the_hub_reuses_a_token_until_near_its_end(hub_key: HubKey) -> None:
    now = [1_000_000.0]
    signer = HubTokenSigner(hub_key, seconds=60, now=lambda: now[0])
    first = signer.token("county")
    now[0] += 30
    assert signer.token("county") == first
    now[0] += 15  # two thirds of its minute gone: a new one
    assert signer.token("county") != first
    assert signer.token("town") != signer.token("county")


def jwks_app(keys: list[HubKey], reads: list[int]) -> Starlette:
    async def jwks(_request: Request) -> JSONResponse:
        reads.append(1)
        return JSONResponse({"keys": [k.jwk() for k in keys]})

    return Starlette(routes=[Route("/.well-known/hub-jwks.json", jwks)])


async def test_a_node_reads_the_hubs_keys_from_a_url_and_again_for_a_new_kid() -> None:
    old, new = HubKey.generate(), HubKey.generate()
    published = [old]
    reads: list[int] = []
    source = KeysAtUrl(
        "http://hub.test/.well-known/hub-jwks.json",
        min_interval=0,
        transport=httpx.ASGITransport(app=jwks_app(published, reads)),
    )
    verifier = HubTokenVerifier("county", source)
    claims: dict[str, Any] = await verifier.verify(HubTokenSigner(old).token("county"))
    assert claims["aud"] == "govhub-node:county" and claims["iss"] == "govhub-hub"
    await verifier.verify(HubTokenSigner(old).token("county"))
    assert len(reads) == 1  # kept
    published.append(new)  # the hub rotates: a token with the new kid reads them again
    await verifier.verify(HubTokenSigner(new).token("county"))
    assert len(reads) == 2
    with pytest.raises(HubTokenInvalid):
        await verifier.verify(HubTokenSigner(HubKey.generate()).token("county"))


async def test_the_hub_publishes_the_key_nodes_check_its_tokens_with(
    app: Any, http: httpx.AsyncClient, settings: Any
) -> None:
    response = await http.get("/.well-known/hub-jwks.json")
    assert response.status_code == 200
    jwks = response.json()
    assert [k["alg"] for k in jwks["keys"]] == ["ES256"]
    hub = hub_signer(settings)
    source = KeysAtUrl(
        "http://hub.test/.well-known/hub-jwks.json", transport=httpx.ASGITransport(app=app)
    )
    claims = await HubTokenVerifier("town", source).verify(hub.token("town"))
    assert claims["aud"] == "govhub-node:town"
