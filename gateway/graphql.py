"""The GraphQL endpoint: Strawberry's ASGI app with GovHub's typed context.

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
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from auth.backend import viewer_of
from auth.identity import Identity
from auth.tokens import InvalidToken
from gateway.context import Context, locale_of
from gateway.licensing import Licensing
from gateway.nodes import NodeRegistry
from gateway.pubsub import Broker
from gateway.settings import Settings
from levels.common.clock import Clock
from resolvers.loaders import Loaders
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


class GovHubGraphQL(GraphQL[Context, None]):
    websocket_adapter_class = TextWebSocketAdapter

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
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.is_dev else None,
            allow_queries_via_get=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        )
        self.settings = settings
        self.nodes = nodes
        self.clock = clock
        self.identity = identity
        self.broker = broker
        self.licensing = licensing

    def encode_json(self, data: object) -> bytes:
        # readable UTF-8 (no \u escapes) and faster than the standard library
        return orjson.dumps(data)

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
