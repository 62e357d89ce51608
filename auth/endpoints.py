"""The identity layer's HTTP endpoints: the token endpoint for machine clients, the
JWKS and the OpenID Provider metadata."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from auth.clients import ASSERTION_TYPE, GRANT_TYPE, OAuthError, client_credentials
from auth.enums import Scope
from auth.identity import Identity
from auth.keys import ALGORITHM

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_FORM = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 16 * 1024


# more public keys the hub publishes next to its token keys (the issuing orgs' licence
# keys, ES256, told apart by ``kid`` and ``alg``)
MoreKeys = Callable[[], Awaitable[dict[str, Any]]]


def routes(identity: Identity, more_keys: MoreKeys | None = None) -> list[Route]:
    settings = identity.settings

    async def token(request: Request) -> Response:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        body = await request.body()
        if content_type != _FORM or len(body) > MAX_FORM_BYTES:
            return _error(OAuthError("invalid_request", f"send {_FORM}"))
        try:
            form = dict(parse_qsl(body.decode(), strict_parsing=True))
        except (ValueError, UnicodeDecodeError):
            return _error(OAuthError("invalid_request", "malformed form"))
        try:
            answer = await client_credentials(identity, form)
        except OAuthError as e:
            return _error(e)
        return JSONResponse(answer, headers=_NO_STORE)

    async def jwks(_request: Request) -> Response:
        keys = list((await identity.keys.jwks())["keys"])
        if more_keys is not None:
            keys += (await more_keys())["keys"]
        return JSONResponse({"keys": keys}, headers={"Cache-Control": "max-age=300"})

    async def openid_configuration(_request: Request) -> Response:
        issuer = settings.issuer
        return JSONResponse(
            {
                "issuer": issuer,
                "jwks_uri": f"{issuer}/.well-known/jwks.json",
                "token_endpoint": settings.token_endpoint,
                "grant_types_supported": [GRANT_TYPE],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                "token_endpoint_auth_signing_alg_values_supported": ["ES256", "EdDSA"],
                "client_assertion_types_supported": [ASSERTION_TYPE],
                "id_token_signing_alg_values_supported": [ALGORITHM],
                "access_token_signing_alg_values_supported": [ALGORITHM],
                "subject_types_supported": ["public"],
                "response_types_supported": ["token"],
                "scopes_supported": [s.value for s in Scope],
                "claims_supported": [
                    "iss",
                    "aud",
                    "sub",
                    "sid",
                    "chn",
                    "typ",
                    "kind",
                    "roles",
                    "jurisdiction",
                    "org",
                    "dep",
                    "scope",
                    "jti",
                    "iat",
                    "exp",
                ],
                "graphql_endpoint": f"{issuer}/graphql",
            }
        )

    return [
        Route("/oauth/token", token, methods=["POST"]),
        Route("/.well-known/jwks.json", jwks),
        Route("/.well-known/openid-configuration", openid_configuration),
    ]


def _error(e: OAuthError) -> Response:
    headers = dict(_NO_STORE)
    if e.status == 401:
        headers["WWW-Authenticate"] = 'Bearer error="invalid_client"'
    return JSONResponse(
        {"error": e.error, "error_description": e.description},
        status_code=e.status,
        headers=headers,
    )
