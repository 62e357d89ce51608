"""``create_app(settings)``: the whole hub as one ASGI app. Nothing is built at import
time; every engine and client is created here and closed in the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import partial

import strawberry
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.routing import Route, WebSocketRoute

from auth import endpoints as auth_endpoints
from auth.backend import on_auth_error
from auth.identity import Identity
from gateway import graphiql, ratelimit, timers
from gateway.admission import Admit, AdmittedTokenBackend, Checker
from gateway.dashboard import routes as dashboard_routes
from gateway.gate import RequestGate
from gateway.graphql import GovHubGraphQL
from gateway.health import engine_state, live, metrics_endpoint, ready_endpoint
from gateway.http import CSRFGuard, cors_middleware
from gateway.idempotency import Idempotency, IdempotencyMiddleware
from gateway.licensing import routes as licensing_routes
from gateway.limits import CostBudget, ProdErrors, operation_extensions
from gateway.messaging import hub_inbox
from gateway.messaging import worker as messaging
from gateway.messaging.factory import NOTHING_TO_RELAY, hub_served, messenger_for
from gateway.messaging.keys import routes as node_key_routes
from gateway.messaging.metrics import MessageMetrics
from gateway.metrics import Metrics, MetricsMiddleware
from gateway.node_app import hub_jwks_route
from gateway.nodes import NodeRegistry
from gateway.notices import routes as notice_routes
from gateway.observability import OperationObserver, RequestIdMiddleware, tracer_for
from gateway.persisted import PersistedQueries
from gateway.ratelimit import ClientRateLimit
from gateway.settings import Settings
from levels.audit.chain import KeyRingSigner
from levels.common.clock import Clock, clock_for
from resolvers.licensing import Licensing
from resolvers.pubsub import broker_for
from schema.build import Extension, build_schema
from schema.errors import is_expected


def settle_heap() -> None:
    """Move what start-up built (modules, the schema, engines) out of the collector's
    reach: a full collection then walks only what requests allocate, not the whole
    heap, which cut gen-2 pauses from ~170 ms to ~50 ms under load."""
    gc.collect()
    gc.freeze()


def hub_schema(
    *,
    prod: bool,
    limits: Sequence[Extension] = (),
    batch_max: int = 0,
) -> strawberry.Schema:
    """The schema with the hub's operation hooks: in prod, unexpected errors masked
    with the request id of their log line, and no "Did you mean …" that would spell
    out the schema; every operation counted and traced with the typed codes the schema
    attaches, before masking; then ``limits`` (gateway/limits.py), and idempotent
    retries last: an operation refused by the checks above takes no key."""
    observers: list[Extension] = []
    if prod:
        observers.append(lambda: ProdErrors(should_mask_error=lambda e: not is_expected(e)))
    observers.append(OperationObserver)
    return build_schema(observers=observers, limits=[*limits, Idempotency], batch_max=batch_max)


def create_app(
    settings: Settings | None = None,
    *,
    nodes: NodeRegistry | None = None,
    clock: Clock | None = None,
) -> Starlette:
    settings = settings or Settings()
    owns_nodes = nodes is None
    registry = nodes or NodeRegistry.from_settings(settings)
    clock = clock or clock_for(settings.clock_override)
    metrics = Metrics.create(
        tracer=tracer_for(settings), operation_names=settings.metrics_operation_names
    )
    identity = Identity(settings, registry.identity, clock)
    broker = broker_for(settings)
    licensing = Licensing(
        registry,
        clock,
        secret=settings.identity_secret(),
        status_ttl_seconds=settings.licence_status_ttl_seconds,
        copy_max_days=settings.licence_copy_max_days,
    )
    # every limit counts in the storage of the login throttle (Redis when configured);
    # a GraphQL request's limits, denylist look-up and budget go in one round trip
    checker = Checker(identity.throttle.storage, identity.kv, settings.redis_namespace)
    graphql = GovHubGraphQL(
        hub_schema(
            prod=not settings.is_dev,
            limits=[
                *operation_extensions(
                    settings,
                    CostBudget(checker, settings.cost_budget_per_minute),
                    prod=not settings.is_dev,
                ),
                Admit,
            ],
            batch_max=settings.batch_max,
        ),
        settings=settings,
        nodes=registry,
        clock=clock,
        identity=identity,
        broker=broker,
        licensing=licensing,
        persisted=PersistedQueries.for_settings(settings, identity.kv),
    )
    # the token is decoded once, here, for every GraphQL request over HTTP; a
    # WebSocket (subscriptions) signs in with its connection_init (on_ws_connect)
    authenticated_graphql = AuthenticationMiddleware(
        ClientRateLimit(graphql, checker, settings.requests_per_minute),
        backend=AdmittedTokenBackend(identity),
        on_error=on_auth_error,
    )

    messenger = None
    message_metrics = None
    if settings.relay_interval_seconds > 0 and not hub_served(registry):
        logging.getLogger("govhub.messaging").info("relay not started: %s", NOTHING_TO_RELAY)
    elif settings.relay_interval_seconds > 0:
        # signed envelopes over the in-process bus (the default) or NATS JetStream,
        # carried by a worker in this process for the nodes without an address
        messenger = messenger_for(settings, registry, clock)
        stream = settings.nats_stream if settings.message_transport == "nats" else "inprocess"
        message_metrics = MessageMetrics(
            metrics.registry, messenger, stream, settings.node_timeout_seconds
        )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await identity.warm_denylist()
        settle_heap()
        worker = None
        if settings.timer_interval_seconds > 0:
            worker = asyncio.create_task(
                timers.run_forever(
                    registry,
                    clock,
                    settings.timer_interval_seconds,
                    KeyRingSigner(identity.keys),
                    broker,
                )
            )
        relayer = None
        if messenger is not None:
            relayer = asyncio.create_task(
                messaging.run_forever(messenger, settings.relay_interval_seconds, broker=broker)
            )
        yield
        for task in (worker, relayer):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if messenger is not None:
            await messenger.transport.close()
        await broker.close()
        await checker.aclose()
        await identity.close()
        if owns_nodes:
            await registry.dispose()

    app = Starlette(
        routes=[
            Route("/graphql", CSRFGuard(authenticated_graphql, settings), methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            *auth_endpoints.routes(identity, licensing.directory.jwks),
            # the key nodes check the hub's calls with (gateway/node_app.py)
            hub_jwks_route(settings),
            *licensing_routes(licensing),
            *node_key_routes(registry),
            # where a node served on its own hands a message for a node held here
            *hub_inbox.routes(registry, settings, clock),
            *notice_routes(licensing, identity),
            Route("/health/live", live),
            Route(
                "/health/ready",
                ready_endpoint(
                    registry,
                    settings.node_timeout_seconds,
                    partial(
                        engine_state,
                        settings.message_transport,
                        settings.nats_url,
                        settings.node_timeout_seconds,
                    ),
                ),
            ),
            Route(
                "/metrics",
                metrics_endpoint(
                    metrics, registry, clock, settings.node_timeout_seconds, message_metrics
                ),
            ),
            *dashboard_routes(),
            # GraphiQL's files, for the page /graphql shows in dev mode
            *(graphiql.routes() if settings.is_dev else []),
        ],
        middleware=[
            Middleware(RequestIdMiddleware),
            cors_middleware(settings),
            Middleware(MetricsMiddleware, metrics=metrics),
            *ratelimit.proxies(settings),
            # the body-size limit, the admission of GraphQL requests and the per-address
            # limit, in that order, as one layer
            Middleware(
                RequestGate,
                max_bytes=settings.max_body_bytes,
                checker=checker,
                path="/graphql",
                respond=ratelimit.refusal_response,
                per_minute_per_ip=ratelimit.address_limit(settings),
            ),
            # innermost: keeps and replays the responses of keyed mutations
            Middleware(IdempotencyMiddleware),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.nodes = registry
    app.state.clock = clock
    app.state.identity = identity
    app.state.broker = broker
    app.state.licensing = licensing
    app.state.messenger = messenger  # this process's message worker (None: not here)
    return app
