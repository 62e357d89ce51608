"""The access-token suite: only a token the hub signed, for this audience, still in
its lifetime and of a live session, lets a request through. Everything else is 401
with UNAUTHENTICATED and no hint of the reason."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from auth.identity import AUDIENCE
from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from tests.auth.conftest import ME, me, own_hub, signed_in
from tests.conftest import DEMO_NOW, GraphQLClient


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(settings: Settings, **overrides: Any) -> dict[str, Any]:
    now = int(DEMO_NOW.timestamp())
    claims: dict[str, Any] = {
        "iss": settings.issuer,
        "aud": AUDIENCE,
        "sub": "forged",
        "sid": "forged-session",
        "chn": "WEB",
        "typ": "access",
        "kind": "AUDITOR",
        "roles": [],
        "jurisdiction": "140700000000",
        "jti": "x",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
    }
    claims.update(overrides)
    return claims


async def _sign(app: Any, claims: dict[str, Any], **headers: Any) -> str:
    """A token signed with the hub's own current key (as if the key had leaked or the
    claims were wrong): the claims alone must decide."""
    key = await app.state.identity.keys.signing_key()
    return jwt.encode(
        claims, key.private, algorithm="EdDSA", headers={"kid": key.kid, "typ": "at+jwt", **headers}
    )


async def _assert_refused(gql: GraphQLClient, token: str) -> None:
    response = await me(gql, token)
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_hub_signed_token_of_the_right_audience_passes(
    app: Any, gql: GraphQLClient, settings: Settings
) -> None:
    token = await _sign(app, _claims(settings, sid=None))
    body = (await me(gql, token)).json()
    # a valid token of an account that does not exist: signed in, but nobody to show
    assert body == {"data": {"me": None}}


async def test_alg_none_is_refused(app: Any, gql: GraphQLClient, settings: Settings) -> None:
    kid = (await app.state.identity.keys.signing_key()).kid
    header = _b64(json.dumps({"alg": "none", "typ": "at+jwt", "kid": kid}).encode())
    payload = _b64(json.dumps(_claims(settings)).encode())
    await _assert_refused(gql, f"{header}.{payload}.")


async def test_hs256_signed_with_the_public_key_is_refused(
    app: Any, gql: GraphQLClient, settings: Settings, http: Any
) -> None:
    jwks = (await http.get("/.well-known/jwks.json")).json()
    public = jwks["keys"][-1]
    header = _b64(json.dumps({"alg": "HS256", "typ": "at+jwt", "kid": public["kid"]}).encode())
    payload = _b64(json.dumps(_claims(settings)).encode())
    for secret in (json.dumps(public).encode(), base64.urlsafe_b64decode(public["x"] + "==")):
        mac = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        await _assert_refused(gql, f"{header}.{payload}.{_b64(mac)}")


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": "another-service"},
        {"iss": "https://evil.example"},
        {"typ": "refresh"},
        {"exp": int(DEMO_NOW.timestamp()) - 60},
        {"nbf": int(DEMO_NOW.timestamp()) + 3600},
        {"kind": "GOD"},
    ],
    ids=["wrong-aud", "wrong-iss", "wrong-typ", "expired", "not-yet-valid", "bad-kind"],
)
async def test_wrong_claims_are_refused(
    app: Any, gql: GraphQLClient, settings: Settings, overrides: dict[str, Any]
) -> None:
    await _assert_refused(gql, await _sign(app, _claims(settings, **overrides)))


async def test_missing_required_claims_are_refused(
    app: Any, gql: GraphQLClient, settings: Settings
) -> None:
    for name in ("exp", "aud", "iss", "sub", "jti"):
        claims = _claims(settings)
        del claims[name]
        await _assert_refused(gql, await _sign(app, claims))


async def test_a_wrong_typ_header_is_refused(
    app: Any, gql: GraphQLClient, settings: Settings
) -> None:
    await _assert_refused(gql, await _sign(app, _claims(settings), typ="JWT"))


async def test_an_unknown_kid_is_refused(gql: GraphQLClient, settings: Settings) -> None:
    attacker = Ed25519PrivateKey.generate()
    token = jwt.encode(
        _claims(settings), attacker, algorithm="EdDSA", headers={"kid": "nope", "typ": "at+jwt"}
    )
    await _assert_refused(gql, token)


async def test_a_jku_header_is_never_followed(
    app: Any, gql: GraphQLClient, settings: Settings
) -> None:
    # signed by an attacker who points jku/jwk at their own key and reuses our kid
    attacker = Ed25519PrivateKey.generate()
    kid = (await app.state.identity.keys.signing_key()).kid
    public_jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(attacker.public_key()))
    token = jwt.encode(
        _claims(settings),
        attacker,
        algorithm="EdDSA",
        headers={
            "kid": kid,
            "typ": "at+jwt",
            "jku": "https://evil.example/jwks.json",
            "jwk": public_jwk,
        },
    )
    await _assert_refused(gql, token)
    # and a jku header on a genuine token changes nothing either
    genuine = await _sign(app, _claims(settings, sid=None), jku="https://evil.example/jwks")
    assert (await me(gql, genuine)).status_code == 200


async def test_garbage_and_other_schemes_are_refused(gql: GraphQLClient) -> None:
    for header in ("Bearer", "Bearer not.a.token", "Basic dXNlcjpwYXNz", "Bearer " + "A" * 5000):
        response = await gql.post(ME, authorization=header)
        assert response.status_code == 401, header


async def test_a_refresh_token_is_not_an_access_token(gql: GraphQLClient) -> None:
    payload = await signed_in(gql, "resident1")
    await _assert_refused(gql, payload["refreshToken"])


async def test_a_login_token_expires_with_the_clock(
    settings: Settings, nodes: NodeRegistry
) -> None:
    async with own_hub(settings, nodes) as hub:
        payload = await signed_in(hub.gql, "resident2")
        assert payload["expiresIn"] == settings.access_token_seconds <= 900
        assert (await me(hub.gql, payload["accessToken"])).status_code == 200
        hub.clock.advance(dt.timedelta(seconds=settings.access_token_seconds + 31))
        await _assert_refused(hub.gql, payload["accessToken"])


async def test_the_token_carries_the_identity_claims(
    gql: GraphQLClient, http: Any, settings: Settings
) -> None:
    payload = await signed_in(gql, "yuci.reviewer", channel="COUNTER")
    token = payload["accessToken"]
    header = jwt.get_unverified_header(token)
    jwks = (await http.get("/.well-known/jwks.json")).json()
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    claims = jwt.decode(
        token,
        jwt.PyJWK(key).key,
        algorithms=["EdDSA"],
        audience=AUDIENCE,
        issuer=settings.issuer,
        options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
    )
    assert header["alg"] == "EdDSA" and header["typ"] == "at+jwt"
    assert claims["typ"] == "access" and claims["chn"] == "COUNTER"
    assert claims["kind"] == "STAFF" and claims["roles"] == ["REVIEWER"]
    assert claims["jurisdiction"] == "140702000000"
    assert claims["sid"] == payload["viewer"]["sessionId"]
    assert claims["exp"] - claims["iat"] == settings.access_token_seconds
    assert claims["jti"]
