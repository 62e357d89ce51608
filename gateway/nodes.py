"""Building the hub's node registry from settings: the node map (``GOVHUB_NODES``, else
the embedded default of one node per level) with a store per node, plus the identity
store. The registry itself lives with the hub (``resolvers/registry.py``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from auth.hub_tokens import HubKey, HubTokenSigner
from gateway.node_app import create_node_app, hub_signer
from gateway.settings import Settings
from levels.common.nodemap import NodeMap, NodeSpec
from levels.common.store import Store, create_store_engine
from resolvers.breakers import NodeBreakers
from resolvers.nodeclient import NodeClient
from resolvers.registry import POLICIES, Node, count_statements, read_sessions
from resolvers.registry import NodeRegistry as _Registry

# the name call sites and tests knew a node by while there was one per level
LevelNode = Node

__all__ = [
    "POLICIES",
    "LevelNode",
    "Node",
    "NodeRegistry",
    "Store",
    "build_registry",
    "count_statements",
    "read_sessions",
]


def _store(name: str, url: str, settings: Settings) -> Store:
    pool_size, max_overflow = settings.db_pool()
    engine = create_store_engine(
        url, echo=settings.sql_echo, pool_size=pool_size, max_overflow=max_overflow
    )
    return Store(name, url, engine, async_sessionmaker(engine, expire_on_commit=False))


class _Signers:
    """The hub's token signers, each made when first needed: the hub key's
    (``GOVHUB_HUB_KEY_FILE``) for a node with an address, which checks tokens against
    it; for the nodes served in the hub's process (``GOVHUB_NODE_CALLS=api``) the same
    signer when a key file is set or some node has an address, else a key made in memory
    for this process's life, which those nodes are handed — the embedded default needs
    no key file."""

    def __init__(self, settings: Settings, node_map: NodeMap) -> None:
        self.settings = settings
        self.map = node_map
        self._file: HubTokenSigner | None = None
        self._memory: tuple[HubTokenSigner, dict[str, Any]] | None = None

    def of_file(self) -> HubTokenSigner:
        if self._file is None:
            self._file = hub_signer(self.settings)
        return self._file

    def in_process(self) -> tuple[HubTokenSigner, dict[str, Any]]:
        """The signer of the calls to a node served in-process, and its public keys."""
        if self.settings.hub_key_file is not None or any(not n.in_process for n in self.map):
            signer = self.of_file()
            return signer, signer.key.jwks()
        if self._memory is None:
            key = HubKey.generate()
            self._memory = (
                HubTokenSigner(key, seconds=self.settings.hub_token_seconds),
                key.jwks(),
            )
        return self._memory


def _client(settings: Settings, spec: NodeSpec, signers: _Signers) -> NodeClient | None:
    """The API client of a node: over HTTP for a node the map gives an ``http(s)://``
    address; with ``GOVHUB_NODE_CALLS=api``, in-process for the others (the node's app,
    ``create_node_app``, driven over an ASGI transport: no lifespan, so its workers do
    not run — the hub's timers and relay serve its store, as with ``sql``); else None
    (the hub reads and writes that store by SQL)."""
    if not spec.in_process:
        return NodeClient.over_http(
            spec.id, spec.address, signer=signers.of_file(), timeout=settings.node_timeout_seconds
        )
    if settings.node_calls != "api":
        return None
    signer, jwks = signers.in_process()
    app = create_node_app(settings, spec.id, hub_keys=jwks)
    return NodeClient.in_process(
        spec.id,
        app,
        signer=signer,
        timeout=settings.node_timeout_seconds,
        dispose=app.state.dispose,
    )


def build_registry(settings: Settings) -> NodeRegistry:
    """A store per node of the configured map, and the identity store; an API client
    for each node with an ``http(s)://`` address (and, with ``GOVHUB_NODE_CALLS=api``,
    for each without one, in-process), which the moved reads and writes go through."""
    node_map = settings.node_map()
    nodes = []
    signers = _Signers(settings, node_map)
    for spec in node_map:
        store = _store(spec.id, settings.node_db_url(spec), settings)
        client = _client(settings, spec, signers)
        nodes.append(Node(store.name, store.url, store.engine, store.sessions, spec, client))
    breakers = NodeBreakers(
        failures=settings.breaker_failures, open_seconds=settings.breaker_open_seconds
    )
    identity = _store("identity", settings.db_url("identity"), settings)
    return NodeRegistry(node_map, nodes, identity, breakers=breakers)


class NodeRegistry(_Registry):
    @classmethod
    def from_settings(cls, settings: Settings) -> NodeRegistry:
        return build_registry(settings)
