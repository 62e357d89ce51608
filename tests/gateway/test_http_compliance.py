"""GraphQL over HTTP at /graphql as a client sees it: media types and status codes,
request parameters, mutations never over GET, CSRF (no body a browser form can send)
and CORS (only the configured origins)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from httpx_ws import WebSocketDisconnect, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport

from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from tests.auth.conftest import LOGOUT, bearer, me, own_hub, signed_in
from tests.conftest import GraphQLClient

GRJ = "application/graphql-response+json"
DIVISION = '{ division(code: "140700000000") { name } }'
WITH_VARIABLE = "query($code: String!) { division(code: $code) { name } }"
PORTAL = "https://portal.jz.example.cn"


def codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json()["errors"]]


async def post(http: httpx.AsyncClient, body: Any, accept: str | None = None) -> httpx.Response:
    headers = {"accept": accept} if accept else {}
    return await http.post("/graphql", json=body, headers=headers)


# -- media types and status codes ------------------------------------------------------


async def test_graphql_response_json_is_answered_in_kind(http: httpx.AsyncClient) -> None:
    response = await post(http, {"query": DIVISION}, GRJ)
    assert response.status_code == 200
    assert response.headers["content-type"] == GRJ
    assert response.json() == {"data": {"division": {"name": "晋中市"}}}
    for accept in (None, "application/json", "*/*", "application/*"):
        legacy = await post(http, {"query": DIVISION}, accept)
        assert legacy.status_code == 200
        assert legacy.headers["content-type"] == "application/json", accept


async def test_the_client_s_preference_order_and_weights_decide(
    http: httpx.AsyncClient,
) -> None:
    preferred = f"application/json;q=0.5, {GRJ}"
    assert (await post(http, {"query": DIVISION}, preferred)).headers["content-type"] == GRJ
    refused_first = f"{GRJ};q=0, application/json"
    response = await post(http, {"query": DIVISION}, refused_first)
    assert response.headers["content-type"] == "application/json"


async def test_an_accept_the_hub_cannot_serve_is_406(http: httpx.AsyncClient) -> None:
    for accept in ("text/html", "application/xml", "application/json;q=0"):
        response = await post(http, {"query": DIVISION}, accept)
        assert response.status_code == 406, accept
        assert codes(response) == ["NOT_ACCEPTABLE"]
        assert "data" not in response.json()


@pytest.mark.parametrize(
    "body",
    [
        {"query": "{ division(code: "},
        {"query": "{ nothingHere }"},
        {"query": WITH_VARIABLE, "variables": {"code": None}},
    ],
    ids=["parse", "validation", "variable coercion"],
)
async def test_request_errors_have_no_data_and_are_400_only_under_graphql_response_json(
    http: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    modern = await post(http, body, GRJ)
    assert modern.status_code == 400 and modern.headers["content-type"] == GRJ
    legacy = await post(http, body, "application/json")
    assert legacy.status_code == 200
    for response in (modern, legacy):
        payload = response.json()
        assert "data" not in payload
        assert payload["errors"][0]["message"]


LEVEL_VARIABLE = "query($l: Level) { divisions(level: $l, first: 1) { edges { cursor } } }"
PAGE_VARIABLE = "query($n: Int!) { divisions(first: $n) { edges { cursor } } }"
FILTER_VARIABLE = "query($f: MatterFilter) { matters(filter: $f, first: 1) { edges { cursor } } }"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"query": "{ division(code: "}, "GRAPHQL_PARSE_FAILED"),
        ({"query": "{ nothingHere }"}, "GRAPHQL_VALIDATION_FAILED"),
        (
            {"query": "{ matters(filter: {nope: 1}) { edges { cursor } } }"},
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            {"query": "{ divisions(level: COUNTI) { edges { cursor } } }"},
            "GRAPHQL_VALIDATION_FAILED",
        ),
        ({"query": LEVEL_VARIABLE, "variables": {"l": "COUNTI"}}, "BAD_USER_INPUT"),
        ({"query": PAGE_VARIABLE, "variables": {"n": "ten"}}, "BAD_USER_INPUT"),
        ({"query": PAGE_VARIABLE, "variables": {}}, "BAD_USER_INPUT"),
        ({"query": FILTER_VARIABLE, "variables": {"f": {"nope": 1}}}, "BAD_USER_INPUT"),
        ({"query": WITH_VARIABLE, "variables": {"code": None}}, "BAD_USER_INPUT"),
    ],
    ids=[
        "syntax",
        "unknown field",
        "unknown input field",
        "unknown enum value",
        "variable: unknown enum value",
        "variable: a string for an Int!",
        "variable: a required one missing",
        "variable: unknown input field",
        "variable: null for a String!",
    ],
)
async def test_request_errors_carry_the_code_of_why(
    http: httpx.AsyncClient, body: dict[str, Any], code: str
) -> None:
    response = await post(http, body, GRJ)
    assert response.status_code == 400
    assert set(codes(response)) == {code}
    # the code says what kind of mistake, the message which one, in the client's language
    for error in response.json()["errors"]:
        assert error["message"].startswith(("GraphQL 文档", "变量值无效"))
    english = await http.post("/graphql", json=body, headers={"accept-language": "en"})
    assert set(codes(english)) == {code}
    assert all(error["message"].isascii() for error in english.json()["errors"])


async def test_execution_errors_are_200_with_data_under_both_types(
    http: httpx.AsyncClient,
) -> None:
    body = {"query": '{ division(code: "1") { name } }'}
    for accept in (GRJ, "application/json"):
        response = await post(http, body, accept)
        assert response.status_code == 200, accept
        payload = response.json()
        assert "data" in payload
        assert codes(response) == ["INVALID_DIVISION_CODE"]


async def test_an_unknown_operation_name_is_a_request_error(http: httpx.AsyncClient) -> None:
    body = {"query": f"query A {DIVISION}", "operationName": "B"}
    assert (await post(http, body, GRJ)).status_code == 400
    legacy = await post(http, body, "application/json")
    assert legacy.status_code == 200
    assert 'Unknown operation named "B"' in legacy.json()["errors"][0]["message"]


# -- request parameters ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"variables": {}}, "MISSING_QUERY"),
        ({"query": ""}, "MISSING_QUERY"),
        ({"query": 42}, "INVALID_REQUEST"),
        ({"query": DIVISION, "variables": "{}"}, "INVALID_REQUEST"),
        ({"query": DIVISION, "variables": ["code"]}, "INVALID_REQUEST"),
        ({"query": DIVISION, "extensions": 0}, "INVALID_REQUEST"),
        ({"query": DIVISION, "operationName": False}, "INVALID_REQUEST"),
        ("{ division }", "INVALID_REQUEST"),
    ],
)
async def test_bad_parameters_are_400_with_a_code(
    http: httpx.AsyncClient, body: Any, code: str
) -> None:
    for accept in (GRJ, "application/json"):
        response = await post(http, body, accept)
        assert response.status_code == 400, (body, accept)
        assert codes(response) == [code]


async def test_a_body_that_is_not_json_is_400(http: httpx.AsyncClient) -> None:
    for content in (b"{not json", b"", b'{"query": "\xff"}'):
        response = await http.post(
            "/graphql", content=content, headers={"content-type": "application/json"}
        )
        assert response.status_code == 400, content
        assert codes(response) == ["INVALID_JSON"]


async def test_get_takes_variables_and_extensions_as_json(http: httpx.AsyncClient) -> None:
    params = {"query": WITH_VARIABLE, "variables": '{"code": "140700000000"}'}
    response = await http.get("/graphql", params=params, headers={"accept": GRJ})
    assert response.status_code == 200 and response.headers["content-type"] == GRJ
    assert response.json() == {"data": {"division": {"name": "晋中市"}}}
    broken = await http.get("/graphql", params={**params, "variables": "{code"})
    assert broken.status_code == 400 and codes(broken) == ["INVALID_JSON"]
    # (with Accept: text/html or */* a dev hub shows GraphiQL instead)
    missing = await http.get(
        "/graphql", params={"variables": "{}"}, headers={"accept": "application/json"}
    )
    assert missing.status_code == 400 and codes(missing) == ["MISSING_QUERY"]


# -- CSRF: mutations never over GET, bodies only as JSON --------------------------------


async def test_a_mutation_over_get_is_405_and_does_nothing(gql: GraphQLClient) -> None:
    token = (await signed_in(gql, "resident1"))["accessToken"]
    response = await gql.http.get(
        "/graphql", params={"query": LOGOUT}, headers={**bearer(token), "accept": GRJ}
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert codes(response) == ["MUTATION_OVER_GET"]
    still = await me(gql, token)
    assert still.json()["data"]["me"]["username"] == "resident1"


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("application/x-www-form-urlencoded", f"query={LOGOUT}"),
        (
            "multipart/form-data; boundary=x",
            f'--x\r\nContent-Disposition: form-data; name="query"\r\n\r\n{LOGOUT}\r\n--x--\r\n',
        ),
        ("text/plain", f'{{"query": "{LOGOUT}"}}'),
        ("text/plain;charset=UTF-8", f'{{"query": "{LOGOUT}"}}'),
        (None, f'{{"query": "{LOGOUT}"}}'),
        ("application/json; charset=iso-8859-1", f'{{"query": "{LOGOUT}"}}'),
    ],
    ids=["form", "multipart", "text", "text-utf8", "none", "latin1"],
)
async def test_bodies_a_browser_form_can_send_are_415_and_never_run(
    gql: GraphQLClient, content_type: str | None, content: str
) -> None:
    token = (await signed_in(gql, "resident1"))["accessToken"]
    headers = bearer(token)
    if content_type:
        headers["content-type"] = content_type
    response = await gql.http.post("/graphql", content=content.encode(), headers=headers)
    assert response.status_code == 415
    assert codes(response)[0] in ("UNSUPPORTED_MEDIA_TYPE", "UNSUPPORTED_CHARSET")
    assert (await me(gql, token)).json()["data"]["me"]["username"] == "resident1"


async def test_the_refusal_speaks_the_client_s_language(http: httpx.AsyncClient) -> None:
    zh = await http.post("/graphql", content=b"query={__typename}")
    en = await http.post(
        "/graphql", content=b"query={__typename}", headers={"accept-language": "en-GB"}
    )
    assert zh.json()["errors"][0]["message"].startswith("请求体须为 JSON")
    assert en.json()["errors"][0]["message"].startswith("the request body must be JSON")
    assert zh.headers["accept-post"].startswith("application/json")


async def test_json_types_with_a_suffix_are_taken(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/graphql",
        content=b'{"query": "{ __typename }"}',
        headers={"content-type": "application/graphql-response+json; charset=utf-8"},
    )
    assert response.status_code == 200 and response.json() == {"data": {"__typename": "Query"}}


async def test_get_can_require_a_preflight_header(settings: Settings, nodes: NodeRegistry) -> None:
    async with own_hub(settings, nodes, get_requires_preflight=True) as hub:
        http = hub.gql.http
        plain = await http.get("/graphql", params={"query": DIVISION})
        assert plain.status_code == 400 and codes(plain) == ["PREFLIGHT_HEADER_REQUIRED"]
        for header in ("X-GovHub-Client", "GraphQL-Require-Preflight"):
            marked = await http.get("/graphql", params={"query": DIVISION}, headers={header: "1"})
            assert marked.status_code == 200, header
        # POST is protected by its content type already
        assert (await post(http, {"query": DIVISION})).status_code == 200


# -- CORS ---------------------------------------------------------------------------


def preflight(origin: str, headers: str = "authorization, content-type") -> dict[str, str]:
    return {
        "origin": origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": headers,
    }


async def test_an_allowed_origin_passes_the_preflight_and_reads_answers(
    settings: Settings, nodes: NodeRegistry
) -> None:
    async with own_hub(settings, nodes, cors_origins=[PORTAL]) as hub:
        http = hub.gql.http
        headers = "authorization, content-type, idempotency-key, x-request-id"
        answer = await http.options("/graphql", headers=preflight(PORTAL, headers))
        assert answer.status_code == 200
        assert answer.headers["access-control-allow-origin"] == PORTAL
        allowed = answer.headers["access-control-allow-headers"].lower()
        for name in headers.split(", "):
            assert name in allowed
        assert "access-control-allow-credentials" not in answer.headers
        response = await http.post("/graphql", json={"query": DIVISION}, headers={"origin": PORTAL})
        assert response.headers["access-control-allow-origin"] == PORTAL
        exposed = response.headers["access-control-expose-headers"].lower()
        assert "x-request-id" in exposed and "retry-after" in exposed


async def test_an_unknown_origin_is_refused(
    settings: Settings, nodes: NodeRegistry, http: httpx.AsyncClient
) -> None:
    async with own_hub(settings, nodes, cors_origins=[PORTAL]) as hub:
        for client in (hub.gql.http, http):  # configured, and the default (no origins)
            evil = "https://evil.example.com"
            answer = await client.options("/graphql", headers=preflight(evil))
            assert answer.status_code == 400
            assert "access-control-allow-origin" not in answer.headers
            # a simple request still gets its answer, which the browser will not show
            response = await client.post(
                "/graphql", json={"query": DIVISION}, headers={"origin": evil}
            )
            assert "access-control-allow-origin" not in response.headers
        # a look-alike of the configured origin is not it
        near = await hub.gql.http.options("/graphql", headers=preflight(PORTAL + ".evil.com"))
        assert near.status_code == 400


async def test_websocket_handshakes_from_other_origins_follow_the_same_list(
    settings: Settings, nodes: NodeRegistry
) -> None:
    async with own_hub(settings, nodes, cors_origins=[PORTAL]) as hub:
        transport = ASGIWebSocketTransport(app=hub.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://govhub.test") as ws:
            async with aconnect_ws(
                "/graphql", ws, subprotocols=["graphql-transport-ws"], headers={"origin": PORTAL}
            ) as socket:
                assert socket.subprotocol == "graphql-transport-ws"
            # closed before it is accepted: a browser sees the handshake fail
            with pytest.raises(WebSocketDisconnect) as refused:
                async with aconnect_ws(
                    "/graphql",
                    ws,
                    subprotocols=["graphql-transport-ws"],
                    headers={"origin": "https://evil.example.com"},
                ):
                    pass
            assert refused.value.code == 1008


async def test_other_methods_are_405_with_allow(http: httpx.AsyncClient) -> None:
    for method in ("HEAD", "PUT", "DELETE", "PATCH"):
        response = await http.request(method, "/graphql", params={"query": DIVISION})
        assert response.status_code == 405, method
        assert set(response.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
