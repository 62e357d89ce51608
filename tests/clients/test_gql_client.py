"""The hub driven by ``gql``, the Python GraphQL client, over real HTTP and a real
WebSocket (uvicorn on loopback): it fetches the schema by introspection and validates
every document against it, signs in, queries, submits a case, follows it over
graphql-transport-ws while staff accept it, and signs out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport
from gql.transport.websockets_protocol import WebsocketsProtocolTransportBase

from gateway.demo.accounts import DEMO_PASSWORD
from tests.support.served import served

YUCI_ORG = "12140702MB00000006"
DISABILITY_CARD = f"{YUCI_ORG}2000700400100"  # 残疾人证, received at 榆次区

LOGIN = """
mutation Login($username: String!, $password: String!, $channel: Channel!) {
  login(input: {username: $username, password: $password, channel: $channel}) {
    accessToken viewer { id username } errors { code }
  }
}"""
LOGOUT = "mutation Logout { logout { revoked errors { code } } }"
ME = "query Me { me { id username displayName } }"
DIVISION = """
query Division($code: String!) {
  division(code: $code) { id code name parent { code name } }
}"""
MATERIALS = """
query Materials { matterImplementations(filter: {basicCode: "000700400100",
    divisionCode: "140702000000", level: COUNTY}) {
  edges { node { id materials { name } } } } }"""
SUBMIT = """
mutation Submit($input: SubmitCaseInput!) {
  submitCase(input: $input) { case { id number status } errors { code } }
}"""
ACCEPT = """
mutation Accept($number: String!) {
  acceptCase(input: {number: $number}) { case { id status } errors { code } }
}"""
FOLLOW = """
subscription Follow($number: String!) {
  caseUpdated(number: $number) { id number status timeline { action } }
}"""


def request(document: str, **variables: Any) -> GraphQLRequest:
    return GraphQLRequest(document, variable_values=variables or None)


@pytest.fixture(scope="module")
async def hub(app: Any) -> AsyncIterator[str]:
    async with served(app) as base_url:
        yield base_url


def http_client(hub: str, token: str | None = None) -> Client:
    headers = {"Authorization": f"Bearer {token}"} if token else None
    transport = HTTPXAsyncTransport(url=f"{hub}/graphql", headers=headers, timeout=30)
    # the schema comes from the hub by introspection; gql validates documents against it
    return Client(transport=transport, fetch_schema_from_transport=True)


async def sign_in(hub: str, username: str, channel: str) -> str:
    async with http_client(hub) as session:
        result = await session.execute(
            request(LOGIN, username=username, password=DEMO_PASSWORD, channel=channel)
        )
    login = result["login"]
    assert login["errors"] == [] and login["viewer"]["username"] == username
    token: str = login["accessToken"]
    return token


async def test_queries_and_a_sign_out_with_gql(hub: str) -> None:
    token = await sign_in(hub, "resident1", "WEB")
    async with http_client(hub, token) as session:
        me = await session.execute(request(ME))
        assert me["me"]["username"] == "resident1"
        division = await session.execute(request(DIVISION, code="140702000000"))
        assert division["division"]["name"] == "榆次区"
        assert division["division"]["parent"] == {"code": "140700000000", "name": "晋中市"}
        # a document the schema does not have is refused by gql itself, before sending
        with pytest.raises(Exception, match="Cannot query field"):
            await session.execute(request("query { nothingHere }"))
        signed_out = await session.execute(request(LOGOUT))
        assert signed_out["logout"] == {"revoked": True, "errors": []}
        with pytest.raises(TransportQueryError) as refused:
            await session.execute(request(ME))
    assert refused.value.errors
    assert refused.value.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_following_a_case_over_graphql_transport_ws_with_gql(hub: str) -> None:
    resident = await sign_in(hub, "resident1", "MOBILE")
    async with http_client(hub, resident) as session:
        edges = (await session.execute(request(MATERIALS)))["matterImplementations"]["edges"]
        materials = [
            {"name": m["name"], "source": "FILE", "reference": f"file-{i}"}
            for i, m in enumerate(edges[0]["node"]["materials"])
        ]
        submitted = await session.execute(
            request(
                SUBMIT,
                input={
                    "implementationCode": DISABILITY_CARD,
                    "channel": "MOBILE",
                    "materials": materials,
                },
            )
        )
    assert submitted["submitCase"]["errors"] == []
    number = submitted["submitCase"]["case"]["number"]

    ws_url = hub.replace("http://", "ws://") + "/graphql"
    # a browser cannot set headers on a WebSocket: the token goes in connection_init
    transport = WebsocketsTransport(
        url=ws_url,
        init_payload={"Authorization": f"Bearer {resident}"},
        subprotocols=[WebsocketsProtocolTransportBase.GRAPHQLWS_SUBPROTOCOL],
    )
    receptionist = await sign_in(hub, "yuci.receptionist", "COUNTER")
    async with Client(transport=transport) as live:
        updates = live.subscribe(request(FOLLOW, number=number))
        now = await anext(updates)
        assert (now["caseUpdated"]["number"], now["caseUpdated"]["status"]) == (
            number,
            "SUBMITTED",
        )
        async with http_client(hub, receptionist) as staff:
            accepted = await staff.execute(request(ACCEPT, number=number))
        assert accepted["acceptCase"]["errors"] == []
        then = await anext(updates)
        assert then["caseUpdated"]["status"] == "ACCEPTED"
        assert then["caseUpdated"]["id"] == now["caseUpdated"]["id"]
        assert [e["action"] for e in then["caseUpdated"]["timeline"]][-1] == "ACCEPT"
        await updates.aclose()
