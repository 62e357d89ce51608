"""The typed per-request context every resolver receives as ``info.context``."""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import GraphQLError
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from auth.identity import Identity
from auth.viewer import ANONYMOUS, Viewer
from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.common.clock import Clock
from resolvers.loaders import Loaders
from resolvers.sessions import RequestSessions


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | WebSocket | None
    settings: Settings
    nodes: NodeRegistry
    clock: Clock
    sessions: RequestSessions
    loaders: Loaders
    identity: Identity
    viewer: Viewer = ANONYMOUS
    locale: str = "zh"
    # errors to report next to partial data (a node that did not answer)
    partial_errors: list[GraphQLError] = field(default_factory=list)


def locale_of(request: HTTPConnection) -> str:
    """Chinese by default; English when the client prefers it (Accept-Language)."""
    accept = request.headers.get("accept-language", "")
    first = accept.split(",")[0].strip().lower()
    return "en" if first.startswith("en") else "zh"


def client_ip(request: HTTPConnection) -> str:
    return request.client.host if request.client else "unknown"
