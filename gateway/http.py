"""GraphQL over HTTP at the transport level: which media type a client gets back
(``Accept``), which request bodies the hub takes (``Content-Type``), the CSRF guard in
front of the GraphQL view, and the error bodies of requests refused before GraphQL.

CSRF: a browser sends a cross-site request without asking first (no CORS preflight)
only with a "simple" method (GET, POST) and a "simple" content type
(``application/x-www-form-urlencoded``, ``multipart/form-data``, ``text/plain``). The hub
executes mutations over POST only, and takes POST bodies only as JSON
(``application/json`` or an ``application/*+json`` type), which a page on another site
can send only after a preflight that CORS (``GOVHUB_CORS_ORIGINS``) answers. GET
executes queries only, which change nothing; the hub keeps no cookies (tokens travel in
``Authorization``), so a cross-site GET carries no credentials. A deployment that puts
the hub behind a cookie-setting proxy sets ``GOVHUB_GET_REQUIRES_PREFLIGHT``: then a GET
must carry a header no form or image tag can send (``GraphQL-Require-Preflight`` or
``X-GovHub-Client``)."""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.settings import Settings

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
# a GET must carry one of these when GOVHUB_GET_REQUIRES_PREFLIGHT is set
PREFLIGHT_HEADERS = ("graphql-require-preflight", "x-govhub-client")

# (zh, en) for each transport error code; the code goes in extensions.code
MESSAGES: dict[str, tuple[str, str]] = {
    "UNSUPPORTED_MEDIA_TYPE": (
        "请求体须为 JSON（Content-Type: application/json）",
        "the request body must be JSON (Content-Type: application/json)",
    ),
    "UNSUPPORTED_CHARSET": (
        "请求体须以 UTF-8 编码",
        "the request body must be encoded in UTF-8",
    ),
    "PREFLIGHT_HEADER_REQUIRED": (
        "GET 请求须带 GraphQL-Require-Preflight 或 X-GovHub-Client 请求头",
        "a GET request must carry a GraphQL-Require-Preflight or X-GovHub-Client header",
    ),
    "NOT_ACCEPTABLE": (
        "只能以 application/graphql-response+json 或 application/json 应答",
        "the hub answers with application/graphql-response+json or application/json only",
    ),
    "MUTATION_OVER_GET": (
        "变更（mutation）只能用 POST 发送",
        "mutations can only be sent with POST",
    ),
    "SUBSCRIPTION_OVER_HTTP": (
        "订阅（subscription）请经 WebSocket（graphql-transport-ws）发送",
        "subscriptions go over a WebSocket (graphql-transport-ws)",
    ),
    "INVALID_JSON": ("请求体不是合法的 JSON", "the request body is not valid JSON"),
    "INVALID_REQUEST": ("请求参数不正确", "the request parameters are invalid"),
    "MISSING_QUERY": ("请求中没有 GraphQL 查询（query）", "the request has no GraphQL query"),
    "BATCHING_DISABLED": ("不支持批量请求", "batched requests are not supported"),
}


def media_type_of(value: str) -> tuple[str, dict[str, str]]:
    """``("application/json", {"charset": "utf-8"})`` from a ``Content-Type`` value or
    one range of an ``Accept`` header; names in lower case."""
    media, *rest = value.split(";")
    params: dict[str, str] = {}
    for param in rest:
        name, _, val = param.partition("=")
        params[name.strip().lower()] = val.strip().strip('"')
    return media.strip().lower(), params


def is_json_media_type(media_type: str) -> bool:
    """``application/json`` or a JSON-based ``application/*+json`` type."""
    kind, _, subtype = media_type.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


def negotiate(accept: str | None) -> str | None:
    """The response media type for an ``Accept`` header: graphql-response+json when the
    client ranks it first, application/json for that, ``*/*``, ``application/*`` or no
    header at all (legacy clients), None when the hub can serve nothing acceptable."""
    if accept is None or not accept.strip():
        return JSON
    ranges: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept.split(",")):
        media, params = media_type_of(item)
        try:
            quality = float(params.get("q", "1"))
        except ValueError:
            quality = 0.0
        if quality > 0 and media:
            ranges.append((-quality, position, media))
    for _, _, media in sorted(ranges):
        if media == GRAPHQL_RESPONSE_JSON:
            return GRAPHQL_RESPONSE_JSON
        if media in (JSON, "application/*", "*/*"):
            return JSON
    return None


def message_for(code: str, headers: Mapping[str, str]) -> str:
    zh, en = MESSAGES[code]
    first = headers.get("accept-language", "").split(",")[0].strip().lower()
    return en if first.startswith("en") else zh


def error_response(
    status_code: int,
    code: str,
    headers: Mapping[str, str],
    *,
    media_type: str = JSON,
    detail: str | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> Response:
    """A GraphQL-shaped error body (``{"errors": [...]}``, no ``data``) for a request
    the hub refuses before it reaches GraphQL."""
    message = message_for(code, headers)
    if detail:
        message = f"{message}: {detail}"
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return Response(
        orjson.dumps(body),
        status_code=status_code,
        media_type=media_type,
        headers=dict(extra_headers or {}),
    )


class CSRFGuard:
    """In front of the GraphQL view (HTTP only; a WebSocket handshake is checked
    against the allowed origins by the view): POST bodies must be JSON in UTF-8 (415
    otherwise, so no HTML form reaches GraphQL), and, when the settings ask for it, a
    GET must carry a preflight header (400 otherwise). Mutations over GET are refused
    by the view (405), which knows the operation's type once the document is parsed."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.get_requires_preflight = settings.get_requires_preflight

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self.refusal(scope["method"], headers)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def refusal(self, method: str, headers: Headers) -> Response | None:
        media_type = negotiate(headers.get("accept")) or JSON
        if method == "POST":
            content_type, params = media_type_of(headers.get("content-type", ""))
            if not is_json_media_type(content_type):
                return error_response(
                    415,
                    "UNSUPPORTED_MEDIA_TYPE",
                    headers,
                    media_type=media_type,
                    detail=content_type or "(none)",
                    extra_headers={"Accept-Post": f"{JSON}; charset=utf-8"},
                )
            charset = params.get("charset", "utf-8").lower()
            if charset not in ("utf-8", "utf8"):
                return error_response(
                    415, "UNSUPPORTED_CHARSET", headers, media_type=media_type, detail=charset
                )
        elif (
            method == "GET"
            and self.get_requires_preflight
            and not any(name in headers for name in PREFLIGHT_HEADERS)
        ):
            return error_response(400, "PREFLIGHT_HEADER_REQUIRED", headers, media_type=media_type)
        return None


class TransportError(Exception):
    """A request refused before (or instead of) GraphQL execution, with the HTTP status,
    the error code and any headers (``Allow`` for 405) of its answer."""

    def __init__(
        self,
        status_code: int,
        code: str,
        detail: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(code if detail is None else f"{code}: {detail}")
        self.status_code = status_code
        self.code = code
        self.detail = detail
        self.headers = dict(headers or {})

    def response(self, request_headers: Mapping[str, str], media_type: str) -> Response:
        return error_response(
            self.status_code,
            self.code,
            request_headers,
            media_type=media_type,
            detail=self.detail,
            extra_headers=self.headers,
        )


def cors_middleware(settings: Settings) -> Middleware:
    """Starlette's CORS middleware for the configured origins (none by default: no page
    on another origin may call the hub). Tokens travel in ``Authorization``, never in
    cookies, so credentials are not allowed."""
    return Middleware(
        CORSMiddleware,
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST"],
        allow_headers=[
            "Authorization",
            "Content-Type",
            "Idempotency-Key",
            "X-Request-Id",
            *(name.title() for name in PREFLIGHT_HEADERS),
        ],
        expose_headers=["X-Request-Id", "Retry-After"],
        allow_credentials=False,
        max_age=600,
    )
