"""The typed per-request context every resolver receives as ``info.context``: built by
the GraphQL view (``gateway/graphql.py``), typed here so that schema/ and resolvers/
name it without importing gateway/.

Over a WebSocket, Strawberry makes one context per connection; ``own_context``
gives every operation on it a context of its own (the connection's viewer, but node
sessions and loader caches of the operation alone)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Protocol

from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.types.execution import ExecutionContext
from strawberry.types.graphql import OperationType

from auth.errors import AuthErrorCode
from auth.identity import Identity
from auth.tokens import InvalidToken
from auth.viewer import ANONYMOUS, Viewer
from levels.common.clock import Clock
from levels.common.errors import DomainError
from resolvers.licensing import Licensing
from resolvers.loaders import Loaders
from resolvers.pubsub import Broker
from resolvers.registry import NodeRegistry
from resolvers.sessions import RequestSessions


class ApiSettings(Protocol):
    """What the API reads of the hub's settings (``gateway.settings.Settings`` is one):
    the node timeout, page sizes and the time limits of the domain."""

    @property
    def node_timeout_seconds(self) -> float: ...

    @property
    def default_page_size(self) -> int: ...

    @property
    def max_page_size(self) -> int: ...

    @property
    def rectification_days(self) -> int: ...

    @property
    def complaint_days(self) -> int: ...

    @property
    def referral_limit_days(self) -> int: ...

    @property
    def proxy_free_age(self) -> int: ...

    @property
    def monthly_report_workday(self) -> int: ...


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | WebSocket | None
    settings: ApiSettings
    nodes: NodeRegistry
    clock: Clock
    sessions: RequestSessions
    loaders: Loaders
    identity: Identity
    broker: Broker
    licensing: Licensing
    viewer: Viewer = ANONYMOUS
    locale: str = "zh"
    # errors to report next to partial data (a node that did not answer)
    partial_errors: list[GraphQLError] = field(default_factory=list)
    # a WebSocket's: the connection_init payload (set by Strawberry) and the bearer
    # token the connection signed in with (checked again before each event it gets)
    connection_params: dict[str, object] | None = None
    token: str | None = None

    def for_operation(self) -> Context:
        """A context for one operation: this one's viewer, its own sessions and loaders."""
        sessions = RequestSessions(self.nodes)
        return replace(
            self,
            sessions=sessions,
            loaders=Loaders.create(sessions, self.settings.node_timeout_seconds),
            partial_errors=[],
        )

    async def forget_reads(self) -> None:
        """Give back the node sessions and drop the loader caches (between the events
        of a subscription: each event is read afresh, no connection is held idle)."""
        await self.sessions.close()
        self.loaders = Loaders.create(self.sessions, self.settings.node_timeout_seconds)


def own_context(execution: ExecutionContext) -> None:
    """Before an operation runs (``schema.build.OperationScope``): every operation on a
    WebSocket runs with a context of its own (Strawberry hands them all the
    connection's): concurrent subscriptions never share a session or a loader cache,
    and one ending closes only its own sessions. Subscriptions are served there only:
    over HTTP they are refused (400), not run as a query."""
    context = execution.context
    if isinstance(context, Context) and isinstance(context.request, WebSocket):
        execution.context = context.for_operation()
    else:
        execution.allowed_operations = set(execution.allowed_operations) - {
            OperationType.SUBSCRIPTION
        }


async def still_signed_in(ctx: Context) -> None:
    """Over a WebSocket, check the connection's token again (before each event a
    subscription sends): expired or signed out, the stream ends UNAUTHENTICATED."""
    if ctx.token is None:
        return
    try:
        await ctx.identity.authenticate(ctx.token)
    except InvalidToken:
        raise DomainError(AuthErrorCode.UNAUTHENTICATED) from None
