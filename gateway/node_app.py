"""``create_node_app(settings, node_id)``: one node of the node map as its own ASGI app
(DESIGN §2, "A node is a service") — ``/graphql`` (the node API of ``schema/node``)
for the hub only, and ``/health``.

* The node's store is its spec's ``database``, or, in the embedded default (a node per
  level), today's store of its level (``GOVHUB_<LEVEL>_DB_URL`` / ``var/<level>.sqlite3``),
  or else ``<var_dir>/nodes/<id>/store.db`` — where the hub finds it (one rule).
* Every call to ``/graphql`` carries a hub token (``Authorization: Bearer``, ES256,
  ``aud`` ``govhub-node:<id>``): without one, or with one that does not verify, 401.
  The hub's public keys are handed over in-process (``hub_keys``), read from
  ``GOVHUB_HUB_JWKS_URL``, or taken from ``GOVHUB_HUB_KEY_FILE``'s public half.
  A ``POST`` goes straight to ``gateway.node_http.NodeEndpoint`` (the token, the
  documents parsed and validated once, the answer by orjson), past the router.
* ``/health`` answers without a token (an orchestrator's probe has none): whether the
  store answers and is at this code's migration head (503 when not), and the node's
  workers — its timer pass and its relay — each on or off, when it last ran and how
  far its store is behind (``lagSeconds``).
* ``POST /inbox`` takes a signed envelope from a peer's relay (no hub token: the
  envelope's signature is the sender's); ``GET /.well-known/node-keys.json`` publishes
  this node's public keys, which its peers verify it with.

Nothing is built at import time; the engines are closed in the lifespan (or by
``app.state.dispose()`` when the app is driven without one, as by httpx's
``ASGITransport``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import jwt
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL

from auth.hub_tokens import (
    HubTokenSigner,
    HubTokenVerifier,
    KeysAtUrl,
    KeySource,
    StaticKeys,
)
from gateway.messaging.jwks import PATH, jwks_source
from gateway.node_entities import EntityShortcut
from gateway.node_http import DocumentCache, HubAuth, NodeEndpoint
from gateway.settings import SettingMissing, Settings
from levels.common import migrate
from levels.common.clock import Clock, clock_for
from levels.common.nodemap import NodeMap, NodeSpec
from levels.common.store import Store, create_store_engine
from levels.idempotency.records import install_hooks
from levels.licences.keys import ALGORITHM, OrgSigner, PublicKey
from levels.node.inbox import Inbox, Outcome
from levels.node.scope import NodeScope
from levels.node.timers import lags
from levels.outbox import signing
from schema.node import NodeContext, build_node_schema

log = logging.getLogger("govhub.node")


def node_spec(settings: Settings, node_id: str) -> tuple[NodeMap, NodeSpec]:
    nodes = settings.node_map()
    if node_id not in nodes:
        known = ", ".join(n.id for n in nodes)
        raise SettingMissing(f"no node {node_id!r} in the node map (GOVHUB_NODES): {known}")
    return nodes, nodes[node_id]


def store_url(settings: Settings, node: NodeSpec) -> str:
    """A node's database, where the hub finds it too (``Settings.node_db_url``): its
    spec's, the level store of the embedded default, or ``<var_dir>/nodes/<id>``."""
    return settings.node_db_url(node)


def _engine(settings: Settings, url: str) -> AsyncEngine:
    pool_size, max_overflow = settings.db_pool()
    return create_store_engine(
        url, echo=settings.sql_echo, pool_size=pool_size, max_overflow=max_overflow
    )


def hub_key_source(settings: Settings, hub_keys: Mapping[str, Any] | None) -> KeySource:
    if hub_keys is not None:
        return StaticKeys(hub_keys)
    if settings.hub_jwks_url:
        return KeysAtUrl(settings.hub_jwks_url, timeout=settings.node_timeout_seconds)
    return StaticKeys(settings.hub_key().jwks())


def keys_of_nodes(source: signing.NodeKeySource, only: frozenset[str]) -> signing.NodeKeySource:
    """``source``'s keys of the nodes ``only`` (a JWKS of every node speaks for these)."""
    orgs = {signing.node_org(n) for n in only}

    async def read() -> list[PublicKey]:
        return [k for k in await source() if k.org_code in orgs]

    return read


def sender_keys(
    settings: Settings,
    nodes: NodeMap,
    node: NodeSpec,
    sessions: async_sessionmaker[AsyncSession],
) -> tuple[signing.NodeKeys, list[AsyncEngine]]:
    """The public keys of the nodes that may send this one messages: a peer the map
    gives an ``http(s)://`` address publishes its own (``/.well-known/node-keys.json``);
    the others are the hub's, whose JWKS of nodes lists theirs when ``GOVHUB_HUB_URL``
    is set (only those peers' keys taken from it), else they are read from their
    stores' ``node:<id>`` key rows (as the message workers read them). Peers whose
    store the map does not locate are left out."""
    sources: dict[str, signing.NodeKeySource] = {}
    engines: list[AsyncEngine] = []
    held = frozenset(p.id for p in nodes if p.in_process and p.id != node.id)
    if settings.hub_url and held:
        url = settings.hub_url.rstrip("/") + PATH
        sources["hub"] = keys_of_nodes(
            jwks_source(url, timeout=settings.node_timeout_seconds), held
        )
    for peer in nodes:
        if peer.id == node.id:
            sources[peer.id] = signing.node_key_source(sessions, peer.id)
            continue
        if not peer.in_process:  # a node served on its own publishes its keys
            url = peer.address.rstrip("/") + PATH
            sources[peer.id] = jwks_source(url, timeout=settings.node_timeout_seconds)
            continue
        if "hub" in sources:
            continue
        try:
            url = store_url(settings, peer)
        except SettingMissing:
            continue
        engine = create_store_engine(url, pool_size=1, max_overflow=1)
        engines.append(engine)
        peer_sessions = async_sessionmaker(engine, expire_on_commit=False)
        sources[peer.id] = signing.node_key_source(peer_sessions, peer.id)
    return signing.NodeKeys(sources, nodes), engines


class NodeGraphQL(GraphQL[NodeContext, None]):
    """The node API over HTTP; each call gets a context of its own."""

    def __init__(self, make_context: Callable[[str], NodeContext]) -> None:
        schema = build_node_schema()
        # the hub's few documents parsed and validated once each (gateway/node_http.py)
        self.documents = DocumentCache()
        schema.extensions = (*schema.extensions, self.documents.extension())
        super().__init__(schema, graphql_ide=None, allow_queries_via_get=False)
        self._make_context = make_context

    async def get_context(self, request: Any, response: Any) -> NodeContext:
        language = request.headers.get("accept-language", "")
        return self._make_context("en" if language.lower().startswith("en") else "zh")


class NodeApp(Starlette):
    """The node's app: a ``POST /graphql`` goes straight to its endpoint (the hub token
    checked there), past the router and middleware; everything else as Starlette does."""

    def __init__(self, endpoint: NodeEndpoint, **options: Any) -> None:
        super().__init__(**options)
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/graphql":
            scope["app"] = self
            await self.endpoint(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


class Worker(Protocol):
    """A loop ``govhub node serve`` runs beside the API (its timers, its relay):
    ``run`` until cancelled; ``report`` what ``/health`` says of it."""

    name: str

    async def run(self) -> None: ...

    def report(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class NodeRuntime:
    """What a node's workers are made from: its spec and map, its store, its clock."""

    settings: Settings
    node: NodeSpec
    nodes: NodeMap
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    keys: signing.NodeKeys


# the node's workers, made when its app is (``gateway/node_workers.py``)
WorkerFactory = Callable[[NodeRuntime], Sequence[Worker]]


def health_endpoint(
    runtime: NodeRuntime, timeout: float, workers: Sequence[Worker] = ()
) -> Callable[[Request], Awaitable[Response]]:
    node, engine = runtime.node, runtime.engine
    heads = sorted(ScriptDirectory.from_config(migrate.alembic_config("levels")).get_heads())

    async def health(_request: Request) -> Response:
        body: dict[str, Any] = {"node": node.id, "head": ",".join(heads)}
        # each worker: on or off, when it last ran, and how far its store is behind
        body["workers"] = {w.name: w.report() for w in workers}
        try:
            async with asyncio.timeout(timeout):
                revision = await migrate.revision(engine)
                behind = await lags(runtime.sessions, runtime.clock.now()) if workers else {}
        except Exception as exc:
            log.warning("node %s: store not answering: %r", node.id, exc)
            return JSONResponse({**body, "status": "down", "store": "unreachable"}, 503)
        for name, seconds in behind.items():
            if name in body["workers"]:
                body["workers"][name]["lagSeconds"] = seconds
        current = sorted((revision or "").split(",")) == heads
        body.update(store="ok", revision=revision, current=current)
        body["status"] = "ok" if current else "behind"
        return JSONResponse(body, 200 if current else 503)

    return health


async def signed_by_a_node(keys: signing.NodeKeys, token: str) -> bool:
    """Whether ``token`` is a JWS whose signature verifies with a key of some node of
    the map (who sent it, and whether it may, the inbox then checks and audits)."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        key = await keys.lookup(kid) if isinstance(kid, str) else None
        if key is None:
            if keys.away:
                raise signing.KeysAway("keys not read from every node", {})
            return False
        jwt.decode(token, key.key, algorithms=[ALGORITHM], options={"verify_aud": False})
    except jwt.PyJWTError:
        return False
    return True


def inbox_endpoint(inbox: Inbox, clock: Clock) -> Callable[[Request], Awaitable[Response]]:
    """``POST /inbox``: a signed envelope (the body, a JWS) from another node's relay,
    applied here once (``Inbox.deliver``); the answer is its outcome and this node's
    receipt. No hub token: the envelope is signed by its sender, checked against the
    sender's keys and the node map, and refused (audited here) when it does not verify.
    A sender whose keys cannot be read now is WAIT (sent again later)."""

    async def deliver(request: Request) -> Response:
        token = (await request.body()).decode("ascii", errors="replace").strip()
        try:
            if not await signed_by_a_node(inbox.keys, token):
                # not from a node at all: answered, not audited (anyone can post)
                return JSONResponse({"outcome": Outcome.REFUSED.value, "reason": "unsigned"}, 400)
            received = await inbox.deliver(token, clock.now())
        except signing.KeysAway as exc:
            return JSONResponse({"outcome": Outcome.WAIT.value, "reason": str(exc)})
        return JSONResponse(
            {
                "outcome": received.outcome.value,
                "messageId": received.message_id,
                "reason": received.reason,
                "receipt": received.receipt,
            }
        )

    return deliver


def own_keys_endpoint(keys: signing.NodeKeys) -> Callable[[Request], Awaitable[Response]]:
    """``GET /.well-known/node-keys.json``: this node's public message keys (what its
    peers verify its envelopes, receipts and audit heads with)."""

    async def own_keys(_request: Request) -> Response:
        await keys.reload()
        return JSONResponse(keys.jwks(), headers={"Cache-Control": "max-age=60"})

    return own_keys


def create_node_app(
    settings: Settings,
    node_id: str,
    *,
    hub_keys: Mapping[str, Any] | None = None,
    node_keys: signing.NodeKeys | None = None,
    clock: Clock | None = None,
    workers: WorkerFactory | None = None,
) -> Starlette:
    """The node's app; ``workers`` makes the loops its lifespan runs beside the API
    (``govhub node serve``: its timers and its relay)."""
    nodes, node = node_spec(settings, node_id)
    engine = _engine(settings, store_url(settings, node))
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    clock = clock or clock_for(settings.clock_override)
    scope = NodeScope(node, nodes)
    peers: list[AsyncEngine] = []
    if node_keys is None:
        node_keys, peers = sender_keys(settings, nodes, node, sessions)
    inbox = Inbox(scope, node_keys, sessions, signing.NodeSigner(settings.identity_secret()))
    own = signing.NodeKeys({node.id: signing.node_key_source(sessions, node.id)}, nodes)
    # an approval here signs its licences with the issuing org's key, kept in this
    # node's store (encrypted with the deployment's secret, as the hub's signer reads it)
    licence_signer = OrgSigner(settings.identity_secret())
    verifier = HubTokenVerifier(node.id, hub_key_source(settings, hub_keys))

    def make_context(locale: str) -> NodeContext:
        return NodeContext(
            scope=scope,
            sessions=sessions,
            inbox=inbox,
            clock=clock,
            locale=locale,
            max_page_size=settings.max_page_size,
            default_page_size=settings.default_page_size,
            licence_signer=licence_signer,
        )

    async def dispose() -> None:
        await asyncio.gather(engine.dispose(), *(e.dispose() for e in peers))

    runtime = NodeRuntime(settings, node, nodes, engine, sessions, clock, node_keys)
    running = list(workers(runtime)) if workers is not None else []

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(w.run(), name=f"{node.id}:{w.name}") for w in running]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await dispose()

    graphql = NodeGraphQL(make_context)
    # a keyed write call's record is written with its effect, by the hub's hooks
    install_hooks()
    store = Store(node.id, store_url(settings, node), engine, sessions)
    shortcut = EntityShortcut(graphql.schema, graphql.documents)
    endpoint = NodeEndpoint(
        graphql.schema, graphql, HubAuth(verifier), make_context, shortcut, store
    )
    app = NodeApp(
        endpoint,
        routes=[
            Route("/graphql", endpoint, methods=["POST"]),
            Route("/health", health_endpoint(runtime, settings.node_timeout_seconds, running)),
            Route("/inbox", inbox_endpoint(inbox, clock), methods=["POST"]),
            Route(PATH, own_keys_endpoint(own), methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.node = node
    app.state.engine = engine
    app.state.sessions = sessions
    app.state.dispose = dispose
    app.state.documents = graphql.documents
    app.state.workers = running
    return app


def hub_signer(settings: Settings) -> HubTokenSigner:
    """The hub's signer of hub tokens (``GOVHUB_HUB_KEY_FILE``, tokens living
    ``GOVHUB_HUB_TOKEN_SECONDS``), for its ``NodeClient``s."""
    return HubTokenSigner(settings.hub_key(), seconds=settings.hub_token_seconds)


def hub_jwks_route(settings: Settings) -> Route:
    """The hub's ``/.well-known/hub-jwks.json``: the public key nodes check its tokens
    with (``GOVHUB_HUB_JWKS_URL`` of a node served on its own). 404 when this hub has no
    key (prod without ``GOVHUB_HUB_KEY_FILE``)."""
    published: dict[str, Any] = {}

    async def hub_jwks(_request: Request) -> Response:
        if not published:
            try:
                published.update(settings.hub_key().jwks())
            except SettingMissing:
                return JSONResponse({"error": "this hub has no hub key configured"}, 404)
        return JSONResponse(published, headers={"Cache-Control": "public, max-age=300"})

    return Route("/.well-known/hub-jwks.json", hub_jwks)
