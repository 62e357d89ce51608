"""The GraphQL endpoint: Strawberry's ASGI app with GovHub's typed context."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from auth.backend import viewer_of
from auth.identity import Identity
from gateway.context import Context, locale_of
from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.common.clock import Clock
from resolvers.loaders import Loaders
from resolvers.sessions import RequestSessions


class GovHubGraphQL(GraphQL[Context, None]):
    def __init__(
        self,
        schema: Any,
        *,
        settings: Settings,
        nodes: NodeRegistry,
        clock: Clock,
        identity: Identity,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.is_dev else None,
            allow_queries_via_get=True,
        )
        self.settings = settings
        self.nodes = nodes
        self.clock = clock
        self.identity = identity

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
            viewer=viewer_of(request),
            locale=locale_of(request),
        )
