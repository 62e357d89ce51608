"""The hub's JWKS of nodes (``/.well-known/node-keys.json``): every node's public
message-signing key with the node it belongs to — not in the licence JWKS — and a
worker reading it verifies a node's envelope and refuses one signed otherwise; a key it
cannot look up while the hub is away makes the message wait, not fail."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.messaging.keys import PATH, jwks_source
from gateway.messaging.worker import node_keys
from gateway.nodes import NodeRegistry
from levels.common.enums import Level
from levels.common.nodemap import NodeMap
from levels.outbox import signing
from levels.outbox.service import enqueue
from tests.conftest import BACKEND, DEMO_NOW, TEST_SECRET, make_registry
from tests.support import pg

VILLAGE = "140702101201"


@pytest.fixture(scope="module")
async def hub(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Starlette]:
    if BACKEND == "postgres":
        await pg.require_services()
    settings, nodes, created = await make_registry(
        tmp_path_factory.mktemp("nodekeys"), f"nodekeys_{uuid.uuid4().hex[:6]}"
    )
    yield create_app(settings, nodes=nodes)
    await nodes.dispose()
    for name in created:
        await pg.drop_database(name)


async def village_envelope(nodes: NodeRegistry, node: str = "village") -> str:
    async with nodes[Level.VILLAGE].sessions.begin() as session:
        row = await enqueue(
            session,
            topic="test.keys",
            source=Level.VILLAGE,
            target=Level.TOWN,
            payload={},
            now=DEMO_NOW,
            division_code=VILLAGE,
        )
        return await signing.NodeSigner(TEST_SECRET.encode()).envelope(session, node, row, DEMO_NOW)


async def test_the_hub_serves_the_node_keys_and_a_worker_verifies_against_them(
    hub: Starlette,
) -> None:
    nodes: NodeRegistry = hub.state.nodes
    envelope = await village_envelope(nodes)
    kid = jwt.get_unverified_header(envelope)["kid"]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=hub), base_url="http://hub"
    ) as client:
        served = (await client.get(PATH)).json()
        (entry,) = [k for k in served["keys"] if k["kid"] == kid]
        assert (entry["node"], entry["kty"], entry["alg"]) == ("village", "EC", "ES256")
        assert "d" not in entry  # public halves only
        # the licence JWKS leaves node keys out
        licence = (await client.get("/.well-known/jwks.json")).json()
        assert kid not in {k.get("kid") for k in licence["keys"]}

        keys = node_keys(nodes, source=jwks_source(f"http://hub{PATH}", client=client))
        claims = await keys.open(envelope)
        assert (claims["iss"], claims["div"]) == ("village", VILLAGE)
        # the same claims signed by a key the JWKS does not hold under that kid
        forged = jwt.encode(
            claims,
            ec.generate_private_key(ec.SECP256R1()),
            algorithm="ES256",
            headers={"kid": kid},
        )
        with pytest.raises(signing.Refused, match="bad signature"):
            await keys.open(forged)


async def test_a_hub_not_answering_keeps_the_keys_read_before() -> None:
    def down(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(503)

    async with httpx.AsyncClient(transport=httpx.MockTransport(down)) as client:
        source = jwks_source("http://hub/.well-known/node-keys.json", client=client)
        with pytest.raises(signing.SourceDown):
            await source()
        keys = signing.NodeKeys({"jwks": source}, NodeMap.embedded())
        await keys.reload()  # no exception: a kid not known yet waits (below)
        assert keys.jwks() == {"keys": []}


async def test_a_key_not_known_while_the_hub_is_away_waits_and_is_refused_once_it_answers(
    hub: Starlette,
) -> None:
    envelope = await village_envelope(hub.state.nodes)
    answering = False

    def jwks(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"keys": []}) if answering else httpx.Response(503)

    async with httpx.AsyncClient(transport=httpx.MockTransport(jwks)) as client:
        source = jwks_source("http://hub/.well-known/node-keys.json", client=client)
        keys = signing.NodeKeys({"jwks": source}, NodeMap.embedded())
        # the hub away: the message may be signed by a key it would list — it waits
        with pytest.raises(signing.KeysAway, match="not known yet") as away:
            await keys.open(envelope)
        assert away.value.claims["iss"] == "village"
        # the hub answers and does not list the key: refused for good
        answering = True
        with pytest.raises(signing.Refused, match="unknown key"):
            await keys.open(envelope)


async def test_a_node_of_a_twenty_character_id_makes_its_key_and_signs(hub: Starlette) -> None:
    """Its key is kept as the org ``node:<id>`` (the store's 64-character column: on
    PostgreSQL an 18-character one refused ids of more than 13 characters)."""
    long_id = "village-140702101201"
    assert len(long_id) == 20
    nodes: NodeRegistry = hub.state.nodes
    envelope = await village_envelope(nodes, long_id)
    nodemap = NodeMap.from_mapping(
        {
            "nodes": [
                {"id": "city", "prefixes": [""], "levels": ["CITY"]},
                {"id": "county", "prefixes": [""], "levels": ["COUNTY"]},
                {"id": "town", "prefixes": [""], "levels": ["TOWN"]},
                {"id": long_id, "prefixes": [""], "levels": ["VILLAGE"]},
            ]
        }
    )
    source = signing.node_key_source(nodes[Level.VILLAGE].sessions, long_id)
    claims = await signing.NodeKeys({long_id: source}, nodemap).open(envelope)
    assert (claims["iss"], claims["div"]) == (long_id, VILLAGE)
    assert jwt.get_unverified_header(envelope)["kid"].startswith(f"node:{long_id}-")
