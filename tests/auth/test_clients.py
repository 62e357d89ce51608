"""Machine clients: a county system gets an access token with a private_key_jwt
assertion (RFC 7523) at POST /oauth/token, and nothing else gets one."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from gateway.demo.accounts import CLIENT_KEYS
from gateway.settings import Settings
from tests.auth.conftest import me
from tests.conftest import DEMO_NOW, GraphQLClient

FORM = "application/x-www-form-urlencoded"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CLIENTS = {"yuci-system": "ES256", "taigu-system": "EdDSA"}


def assertion(
    settings: Settings,
    client_id: str = "yuci-system",
    *,
    key_of: str | None = None,
    lifetime: int = 120,
    **overrides: Any,
) -> str:
    now = int(DEMO_NOW.timestamp())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": settings.token_endpoint,
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + lifetime,
        **overrides,
    }
    signer = key_of or client_id
    key = (CLIENT_KEYS / f"{signer}.pem").read_bytes()
    # signed as given (PyJWT's encode would refuse claims of the wrong kind)
    return jwt.PyJWS().encode(
        json.dumps(claims).encode(), key, algorithm=CLIENTS[signer], headers={"typ": "JWT"}
    )


async def token_request(http: httpx.AsyncClient, **form: str) -> httpx.Response:
    data = {"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE, **form}
    return await http.post("/oauth/token", data=data)


@pytest.mark.parametrize("client_id", sorted(CLIENTS))
async def test_a_county_system_gets_a_token(
    http: httpx.AsyncClient, gql: GraphQLClient, settings: Settings, client_id: str
) -> None:
    response = await token_request(http, client_assertion=assertion(settings, client_id))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == settings.access_token_seconds
    assert body["scope"] == "cases:read cases:refer catalogue:read"
    viewer = (await me(gql, body["access_token"])).json()["data"]["me"]
    assert viewer["kind"] == "SERVICE" and viewer["username"] == client_id
    assert viewer["channel"] == "SYSTEM"
    assert viewer["scopes"] == ["CASES_READ", "CASES_REFER", "CATALOGUE_READ"]


async def test_a_replayed_assertion_is_refused(http: httpx.AsyncClient, settings: Settings) -> None:
    signed = assertion(settings)
    assert (await token_request(http, client_assertion=signed)).status_code == 200
    replay = await token_request(http, client_assertion=signed)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"


async def test_a_client_may_ask_for_fewer_scopes_not_more(
    http: httpx.AsyncClient, settings: Settings
) -> None:
    fewer = await token_request(http, client_assertion=assertion(settings), scope="catalogue:read")
    assert fewer.json()["scope"] == "catalogue:read"
    more = await token_request(http, client_assertion=assertion(settings), scope="admin:all")
    assert more.status_code == 400 and more.json()["error"] == "invalid_scope"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"key_of": "taigu-system"},  # signed with another client's key
        {"aud": "https://other.example/token"},
        {"sub": "taigu-system"},
        {"lifetime": -120},  # expired
        {"lifetime": 24 * 3600},  # not a short-lived assertion
        {"client_id": "no-such-system", "key_of": "yuci-system"},
    ],
    ids=["wrong-key", "wrong-aud", "sub-differs", "expired", "too-long", "unknown-client"],
)
async def test_bad_assertions_are_refused_alike(
    http: httpx.AsyncClient, settings: Settings, kwargs: dict[str, Any]
) -> None:
    response = await token_request(http, client_assertion=assertion(settings, **kwargs))
    assert response.status_code == 401
    assert response.json() == REFUSED


# every refused client authentication says exactly this (no hint which check failed)
REFUSED = {"error": "invalid_client", "error_description": "client authentication failed"}

# correctly signed assertions whose claims are of the wrong kind: each is refused like
# any other bad assertion, never a 500
ODD_CLAIMS: dict[str, dict[str, Any]] = {
    "nbf-string": {"nbf": "1700000000"},
    "nbf-list": {"nbf": [1]},
    "nbf-object": {"nbf": {"at": 1}},
    "nbf-infinite": {"nbf": float("inf")},
    "iat-string": {"iat": "now"},
    "iat-list": {"iat": []},
    "iat-object": {"iat": {}},
    "iat-boolean": {"iat": True},
    "exp-string": {"exp": "tomorrow"},
    "exp-list": {"exp": [1]},
    "exp-object": {"exp": {"at": 1}},
    "exp-not-a-number": {"exp": float("nan")},
    "jti-empty": {"jti": ""},
    "jti-blank": {"jti": "   "},
    "jti-number": {"jti": 42},
    "jti-list": {"jti": ["a"]},
    "jti-nul": {"jti": "a\x00b"},
    "iss-object": {"iss": {"id": "yuci-system"}},
    "iss-nul": {"iss": "yuci-system\x00"},
}


@pytest.mark.parametrize("claims", list(ODD_CLAIMS.values()), ids=list(ODD_CLAIMS))
async def test_claims_of_the_wrong_kind_are_refused_alike(
    http: httpx.AsyncClient, settings: Settings, claims: dict[str, Any]
) -> None:
    response = await token_request(http, client_assertion=assertion(settings, **claims))
    assert response.status_code == 401, response.text
    assert response.json() == REFUSED


async def test_numeric_dates_may_be_fractional(http: httpx.AsyncClient, settings: Settings) -> None:
    now = DEMO_NOW.timestamp()
    signed = assertion(settings, iat=now + 0.25, nbf=now - 0.5, exp=now + 60.5)
    assert (await token_request(http, client_assertion=signed)).status_code == 200


async def test_an_assertion_signed_by_an_unregistered_key_is_refused(
    http: httpx.AsyncClient, settings: Settings
) -> None:
    stranger = ec.generate_private_key(ec.SECP256R1())
    now = int(DEMO_NOW.timestamp())
    claims = {
        "iss": "yuci-system",
        "sub": "yuci-system",
        "aud": settings.token_endpoint,
        "jti": "x1",
        "exp": now + 60,
    }
    forged = jwt.encode(claims, stranger, algorithm="ES256")
    assert (await token_request(http, client_assertion=forged)).status_code == 401


async def test_malformed_requests_get_oauth_errors(
    http: httpx.AsyncClient, settings: Settings
) -> None:
    wrong_grant = await http.post(
        "/oauth/token", data={"grant_type": "password", "username": "a", "password": "b"}
    )
    assert wrong_grant.status_code == 400
    assert wrong_grant.json()["error"] == "unsupported_grant_type"
    no_assertion = await http.post("/oauth/token", data={"grant_type": "client_credentials"})
    assert no_assertion.status_code == 401 and no_assertion.json() == REFUSED
    as_json = await http.post(
        "/oauth/token", json={"grant_type": "client_credentials", "client_assertion": "x"}
    )
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"
    garbage = await token_request(http, client_assertion="not-a-jwt")
    assert garbage.status_code == 401 and garbage.json() == REFUSED
    assert (await http.get("/oauth/token")).status_code == 405


async def test_discovery_documents(http: httpx.AsyncClient, settings: Settings) -> None:
    config = (await http.get("/.well-known/openid-configuration")).json()
    assert config["issuer"] == settings.issuer
    assert config["token_endpoint"] == settings.token_endpoint
    assert config["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    jwks = (await http.get(config["jwks_uri"].removeprefix(settings.issuer))).json()
    # the hub's token keys (EdDSA), and the issuing orgs' e-licence keys (ES256), told
    # apart by alg; every kid once
    kinds = {(k["alg"], k["kty"]) for k in jwks["keys"]}
    assert ("EdDSA", "OKP") in kinds and kinds <= {("EdDSA", "OKP"), ("ES256", "EC")}
    licence_kids = [k["kid"] for k in jwks["keys"] if k["alg"] == "ES256"]
    assert licence_kids and all(k[:18].isalnum() and k[18] == "-" for k in licence_kids)
    assert len({k["kid"] for k in jwks["keys"]}) == len(jwks["keys"])
    assert all("d" not in k for k in jwks["keys"])  # never a private part


async def test_assertion_ids_are_kept_only_while_they_matter(
    http: httpx.AsyncClient, settings: Settings, nodes: Any
) -> None:
    from sqlalchemy import func, select

    from auth.models import UsedAssertion

    await token_request(http, client_assertion=assertion(settings))
    async with nodes.identity.sessions() as session:
        oldest = await session.scalar(select(func.min(UsedAssertion.expires_at)))
    assert oldest is not None and oldest > DEMO_NOW - dt.timedelta(minutes=1)
