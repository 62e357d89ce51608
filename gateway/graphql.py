"""The GraphQL endpoint: Strawberry's ASGI app with GovHub's typed context.

Over HTTP (GraphQL over HTTP, https://graphql.github.io/graphql-over-http/draft/) the
view takes queries by GET and queries and mutations by POST with a JSON body, answers in
``application/graphql-response+json`` when the client asks for it (``Accept``) and in
``application/json`` otherwise, and refuses what it cannot serve (406) or run (405 for a
mutation over GET, 400 for bad parameters). A request error (the document does not parse
or validate, variables do not coerce) has no ``data``; it is 400 under
graphql-response+json and 200 under application/json, as the spec has it for legacy
clients. ``gateway/http.py`` checks the content type (CSRF) before the view.

The request passes through three steps a subclass or another module may extend:
``request_params`` (the raw GET/POST parameters), ``parse_http_body`` (checked into a
``GraphQLRequestData``) and ``resolve_document`` (the document to run: where a persisted
query's hash becomes its text), then ``execute_single`` parses, validates and runs it.

Over HTTP the viewer comes from ``AuthenticationMiddleware`` (``auth/backend.py``).
Over a WebSocket (graphql-transport-ws, for subscriptions) browsers cannot set headers:
the client sends its access token in the ``connection_init`` payload
(``{"Authorization": "Bearer <token>"}``; the handshake's ``Authorization`` header
also works). A connection without an acceptable token is closed with 4403."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from auth.backend import viewer_of
from auth.connection import locale_of
from auth.identity import Identity
from auth.tokens import InvalidToken
from gateway import graphiql
from gateway.http import GRAPHQL_RESPONSE_JSON, JSON, TransportError, negotiate
from gateway.nodes import NodeRegistry
from gateway.persisted import PersistedQueries
from gateway.settings import Settings
from levels.common.clock import Clock
from resolvers.context import Context
from resolvers.licensing import Licensing
from resolvers.loaders import Loaders
from resolvers.pubsub import Broker
from resolvers.sessions import RequestSessions

log = logging.getLogger("govhub.auth")


class TextWebSocketAdapter(ASGIWebSocketAdapter):
    """graphql-transport-ws messages go out as text frames (Strawberry would send the
    bytes ``encode_json`` makes as binary ones, which browser clients cannot parse)."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(self.view.encode_json_string(message))
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class GraphQLSubResponse(Response):
    """The response a request's resolvers may add headers to, carrying the media type
    negotiated from the request's ``Accept``."""

    def __init__(self, media_type: str) -> None:
        super().__init__()
        self.status_code = None  # type: ignore[assignment]
        del self.headers["content-length"]
        self.response_media_type = media_type


def is_request_error(result: ExecutionResult) -> bool:
    """A result refused before execution: the document did not parse or validate (or an
    extension refused it), or the variables did not coerce. Execution errors always
    carry a ``path``; these never do."""
    if isinstance(result, PreExecutionError):
        return True
    return (
        result.data is None
        and bool(result.errors)
        and all(error.path is None for error in result.errors or ())
    )


class PersistedOnlyTransportWS(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws with the HTTP path's persisted-only rule: with
    ``GOVHUB_PERSISTED_ONLY`` a document outside the manifest is refused here too, as an
    ``error`` message for that operation (the connection stays open)."""

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        persisted: PersistedQueries | None = getattr(self.view, "persisted", None)
        query = message.get("payload", {}).get("query")
        if self.connection_acknowledged and persisted is not None and not persisted.admits(query):
            code = "PERSISTED_QUERY_REQUIRED"
            error = GraphQLError(
                persisted.message(code, self.context.locale), extensions={"code": code}
            )
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [error.formatted]}
            )
            return
        await super().handle_subscribe(message)


class GovHubGraphQL(GraphQL[Context, None]):
    websocket_adapter_class = TextWebSocketAdapter
    graphql_transport_ws_handler_class = PersistedOnlyTransportWS

    def __init__(
        self,
        schema: Any,
        *,
        settings: Settings,
        nodes: NodeRegistry,
        clock: Clock,
        identity: Identity,
        broker: Broker,
        licensing: Licensing,
        persisted: PersistedQueries | None = None,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.is_dev else None,
            allow_queries_via_get=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            # a page on another origin may open a WebSocket only from the CORS origins
            allowed_origins=settings.cors_origins,
        )
        self.settings = settings
        self.nodes = nodes
        self.clock = clock
        self.identity = identity
        self.broker = broker
        self.licensing = licensing
        self.persisted = persisted

    def encode_json(self, data: object) -> bytes:
        # readable UTF-8 (no \u escapes) and faster than the standard library
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    # -- GraphQL over HTTP ---------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        negotiated = negotiate(request.headers.get("accept"))
        media_type = negotiated or JSON
        request.state.graphql_media_type = media_type
        try:
            if negotiated is None and not self.should_render_graphql_ide(
                self.request_adapter_class(request)
            ):
                raise TransportError(406, "NOT_ACCEPTABLE", headers={"Vary": "Accept"})
            response = await self.run(request)
        except TransportError as e:
            response = e.response(request.headers, media_type)
        except HTTPException as e:  # Strawberry's own refusals (HEAD, a batch…)
            allow = {"Allow": "GET, POST"} if e.status_code == 405 else None
            response = TransportError(e.status_code, "INVALID_REQUEST", e.reason, allow).response(
                request.headers, media_type
            )
        await response(scope, receive, send)

    async def render_graphql_ide(self, request: Request) -> Response:
        # the hub's own GraphiQL page: its files served from here, under a strict CSP
        return graphiql.page_response()

    def should_render_graphql_ide(self, request: Any) -> bool:
        # without an IDE (prod) a GET without a query is just a request missing its query
        return self.graphql_ide is not None and super().should_render_graphql_ide(request)

    async def request_params(self, request: AsyncHTTPRequestAdapter) -> object:
        """The request's parameters as sent: the query string of a GET (``variables``
        and ``extensions`` decoded from JSON), the JSON body of a POST (an object, or a
        list for a batch). ``gateway/http.py`` has already refused non-JSON bodies."""
        if request.method == "GET":
            params: dict[str, object] = dict(request.query_params)
            for name in ("variables", "extensions"):
                value = params.get(name)
                if isinstance(value, str):
                    params[name] = self._decode(value, name) if value else None
            return params
        body = self._decode(await request.get_body(), None)
        if isinstance(body, list) and self.settings.batch_max <= 0:
            raise TransportError(400, "BATCHING_DISABLED")
        return body

    def _decode(self, data: str | bytes, parameter: str | None) -> object:
        try:
            return self.decode_json(data)
        except ValueError:
            raise TransportError(400, "INVALID_JSON", parameter) from None

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        """The parameters checked as the spec requires: ``query`` and ``operationName``
        strings, ``variables`` and ``extensions`` objects (each may be absent or null).
        A missing ``query`` is refused after ``resolve_document``, which may supply it."""
        params = await self.request_params(request)
        if isinstance(params, list):
            self._validate_batch_request(params, protocol="http")
            return [request_data(item) for item in params]
        return request_data(params)

    async def resolve_document(
        self, request: Request, data: GraphQLRequestData
    ) -> GraphQLRequestData:
        """The operation to run for a request: as sent, or the document of a persisted
        query's hash (``gateway/persisted.py``)."""
        if self.persisted is None:
            return data
        return await self.persisted.resolve(request, data)

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> Any:
        """A batch (``GOVHUB_BATCH_MAX``) runs its operations one after another, each
        with a context of its own (sessions, loaders, partial errors)."""
        if not isinstance(request_data, list):
            return await super().execute_operation(
                request, request_adapter, request_data, context, root_value, sub_response
            )
        return [
            await self.execute_single(
                request, request_adapter, sub_response, context.for_operation(), root_value, data
            )
            for data in request_data
        ]

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Run one operation: queries over GET, queries and mutations over POST (a
        mutation over GET is 405, a subscription over HTTP 400: it needs a WebSocket).
        Under graphql-response+json a request error is 400."""
        data = await self.resolve_document(request, request_data)
        if not data.query:
            raise TransportError(400, "MISSING_QUERY")
        method = request_adapter.method
        allowed = {OperationType.QUERY}
        if method == "POST":
            allowed.add(OperationType.MUTATION)
        try:
            result = await self.schema.execute(
                data.query,
                root_value=root_value,
                variable_values=data.variables,
                context_value=context,
                operation_name=data.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=data.extensions,
            )
        except InvalidOperationTypeError as e:
            if e.operation_type is OperationType.MUTATION:
                raise TransportError(405, "MUTATION_OVER_GET", headers={"Allow": "POST"}) from None
            raise TransportError(
                400, "SUBSCRIPTION_OVER_HTTP", e.as_http_error_reason(method)
            ) from None
        except CannotGetOperationTypeError as e:
            raise TransportError(
                self._request_error_status(request), "INVALID_REQUEST", e.as_http_error_reason()
            ) from None
        except MissingQueryError:
            raise TransportError(400, "MISSING_QUERY") from None
        if is_request_error(result):
            sub_response.status_code = self._request_error_status(request)
            if any(
                (e.extensions or {}).get("code") == "COST_BUDGET_EXCEEDED"
                for e in result.errors or []
            ):
                # over the client's cost budget: back off, as for the request rate limit
                sub_response.status_code = 429
        return result

    @staticmethod
    def _request_error_status(request: Request) -> int:
        """A well-formed request that GraphQL refuses: 400 under graphql-response+json;
        200 under application/json, where a 4xx could come from any proxy."""
        media_type = getattr(request.state, "graphql_media_type", JSON)
        return 400 if media_type == GRAPHQL_RESPONSE_JSON else 200

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        response = process_result(result)
        if is_request_error(result):
            # the operation never ran: no data entry at all (GraphQL spec, 7.1.2)
            response.pop("data", None)
        return response

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        media_type = getattr(request.state, "graphql_media_type", JSON)
        return GraphQLSubResponse(media_type)

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        media_type = getattr(sub_response, "response_media_type", JSON)
        response = Response(
            self.encode_json(response_data),
            status_code=sub_response.status_code or 200,
            media_type=media_type,
            background=sub_response.background,
        )
        response.headers.raw.extend(sub_response.headers.raw)
        response.headers["Vary"] = "Accept"
        return response

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        sessions = RequestSessions(self.nodes)
        return Context(
            request=request,
            response=response,
            settings=self.settings,
            nodes=self.nodes,
            clock=self.clock,
            sessions=sessions,
            loaders=Loaders.create(sessions, self.settings.node_timeout_seconds),
            identity=self.identity,
            broker=self.broker,
            licensing=self.licensing,
            # a WebSocket's viewer is set by on_ws_connect, from its token
            viewer=viewer_of(request),
            locale=locale_of(request),
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Sign the connection in with the token of ``connection_init`` (or of the
        handshake); refuse it (4403) without one the hub accepts."""
        header = authorization(context.connection_params or {})
        if header is None:
            header = authorization(context.request.headers)
        token = bearer_token(header)
        # graphql-transport-ws closes a refused connection_init with 4403 Forbidden
        if token is None:
            raise ConnectionRejectionError()
        try:
            context.viewer = await self.identity.authenticate(token)
        except InvalidToken as e:
            log.info("WebSocket token refused: %s", e)
            raise ConnectionRejectionError() from None
        context.token = token
        return UNSET


def request_data(params: object) -> GraphQLRequestData:
    """One operation's parameters, checked: 400 for a wrong type."""
    if not isinstance(params, dict):
        raise TransportError(400, "INVALID_REQUEST", "the body must be a JSON object")
    for name, types in (
        ("query", (str,)),
        ("operationName", (str,)),
        ("variables", (dict,)),
        ("extensions", (dict,)),
    ):
        value = params.get(name)
        if value is not None and not isinstance(value, types):
            kind = "a string" if types == (str,) else "an object"
            raise TransportError(400, "INVALID_REQUEST", f"`{name}` must be {kind} or null")
    return GraphQLRequestData(
        query=params.get("query"),
        variables=params.get("variables"),
        operation_name=params.get("operationName"),
        extensions=params.get("extensions"),
        protocol="http",
    )


def authorization(values: Mapping[str, Any]) -> str | None:
    """The ``Authorization`` entry of a payload or headers, the key in any case."""
    for key, value in values.items():
        if isinstance(key, str) and key.lower() == "authorization":
            return value if isinstance(value, str) else ""
    return None


def bearer_token(value: str | None) -> str | None:
    scheme, _, token = (value or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None
