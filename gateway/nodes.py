"""Building the hub's node registry from settings: the node map (``GOVHUB_NODES``, else
the embedded default of one node per level) with a store per node, plus the identity
store. The registry itself lives with the hub (``resolvers/registry.py``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import async_sessionmaker

from auth.hub_tokens import HubTokenSigner
from gateway.node_app import hub_signer
from gateway.settings import Settings
from levels.common.nodemap import NodeSpec
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


def _client(settings: Settings, spec: NodeSpec, signer: list[HubTokenSigner]) -> NodeClient | None:
    """The API client of a node the map gives an ``http(s)://`` address (one hub token
    signer for them all, made when the first is)."""
    if spec.in_process:
        return None
    if not signer:
        signer.append(hub_signer(settings))
    return NodeClient.over_http(
        spec.id, spec.address, signer=signer[0], timeout=settings.node_timeout_seconds
    )


def build_registry(settings: Settings) -> NodeRegistry:
    """A store per node of the configured map, and the identity store; an API client
    for each node with an ``http(s)://`` address, which the moved reads go through."""
    node_map = settings.node_map()
    nodes = []
    signer: list[HubTokenSigner] = []
    for spec in node_map:
        store = _store(spec.id, settings.node_db_url(spec), settings)
        client = _client(settings, spec, signer)
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
