"""The node registry of the hub: the node map (``levels/common/nodemap.py``) with a
store per node — nodes keyed by node id, in map order — plus the identity store and a
circuit breaker per node. The hub routes by division: ``owner(division)`` is the node
that owns it, ``holding(level, under)`` the nodes a list over a level fans out to.

Built from settings by the gateway (``gateway/nodes.py: build_registry``); nothing here
runs at import time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Self

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from levels.city.policy import CITY_POLICY
from levels.common.codes import DivisionCode, level_of_division
from levels.common.enums import LEVELS, Level
from levels.common.nodemap import NodeMap, NodeSpec
from levels.common.policy import LevelPolicy
from levels.common.reads import ReadSession
from levels.common.store import Store
from levels.county.policy import COUNTY_POLICY
from levels.town.policy import TOWN_POLICY
from levels.village.policy import VILLAGE_POLICY
from resolvers.breakers import NodeBreakers
from resolvers.nodeclient import NodeClient

# a level's behaviour, whichever node holds a division of that level
POLICIES: dict[Level, LevelPolicy] = {
    Level.CITY: CITY_POLICY,
    Level.COUNTY: COUNTY_POLICY,
    Level.TOWN: TOWN_POLICY,
    Level.VILLAGE: VILLAGE_POLICY,
}


@dataclass(frozen=True)
class Node(Store):
    """A node of the map with its store. ``name`` is the node id (metrics, health and
    breakers are labelled by it). ``client``: the node's API, for a node the map gives
    an ``http(s)://`` address — the reads that have moved onto the node API go there
    (``resolvers/remote.py``), the rest still through the store."""

    spec: NodeSpec
    client: NodeClient | None = None

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def prefixes(self) -> tuple[str, ...]:
        return self.spec.prefixes

    @property
    def levels(self) -> tuple[Level, ...]:
        """The levels of the divisions this node may own, top down."""
        return tuple(lv for lv in LEVELS if self.spec.holds(lv))

    @property
    def level(self) -> Level:
        """The level of a node that holds exactly one (every node of the embedded
        default); a LookupError for a node holding several — code that needs a level
        takes it from the division it works on."""
        held = self.levels
        if len(held) != 1:
            raise LookupError(f"node {self.id!r} holds {len(held)} levels, not one")
        return held[0]

    @property
    def policy(self) -> LevelPolicy:
        """The level policy of a one-level node (see ``level``)."""
        return POLICIES[self.level]

    def describe(self) -> str:
        return f"{self.id} ({self.spec.describe()})"


# the ranges ``NodeRegistry.holding`` remembers at most (then it starts again)
HOLDING_KEPT = 4096


def read_sessions(engine: AsyncEngine) -> async_sessionmaker[ReadSession] | None:
    """Sessions for a request's reads on PostgreSQL: autocommit, so a read costs its
    statement's round trip only (no BEGIN, no ROLLBACK; under READ COMMITTED each
    statement has its own snapshot anyway). None on SQLite, where a request's reads of
    a store share one transaction (one snapshot)."""
    if engine.dialect.name != "postgresql":
        return None
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    return async_sessionmaker(autocommit, class_=ReadSession, expire_on_commit=False)


class NodeRegistry:
    def __init__(
        self,
        node_map: NodeMap,
        nodes: Iterable[Node],
        identity: Store,
        *,
        breakers: NodeBreakers | None = None,
    ) -> None:
        self.map = node_map
        by_id = {node.id: node for node in nodes}
        # in map order
        self._nodes = {spec.id: by_id[spec.id] for spec in node_map}
        self.identity = identity
        # a circuit breaker per node, for the fan-out and the relay
        self.breakers = breakers or NodeBreakers()
        self.reads = {node_id: read_sessions(n.engine) for node_id, n in self._nodes.items()}
        # ``holding`` by (level, range): the map does not change, and a page of 50 items
        # asks it once per item (~70 µs each over the map's prefixes)
        self._holding: dict[tuple[Level, str | None], tuple[Node, ...]] = {}

    def replacing(self, *nodes: Node, breakers: NodeBreakers | None = None) -> Self:
        """The same map with some nodes' stores replaced (a node moved, or one down in
        a test), sharing the identity store; fresh breakers unless given."""
        swap = {n.id: n for n in nodes}
        return type(self)(
            self.map, [swap.get(n.id, n) for n in self], self.identity, breakers=breakers
        )

    def __getitem__(self, key: str | Level) -> Node:
        """A node by id, or — while exactly one node holds it — by level."""
        if isinstance(key, Level):
            return self.single(key)
        try:
            return self._nodes[key]
        except KeyError:
            raise KeyError(f"no node {key!r} in the node map") from None

    def __iter__(self) -> Iterator[Node]:
        return iter(self._nodes.values())

    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._nodes

    def single(self, level: Level) -> Node:
        """The one node holding ``level`` (the city level of every topology so far);
        a LookupError naming the level when several nodes hold it."""
        spec = self.map.single(level)
        if spec is None:
            held = ", ".join(n.id for n in self.map.holding(level))
            raise LookupError(
                f"the {level.value} level is held by several nodes ({held}): "
                "route by division code (owner/holding), not by level"
            )
        return self._nodes[spec.id]

    def owner(self, division: str | DivisionCode) -> Node:
        """The node owning a division (longest matching prefix); DomainError
        DIVISION_NOT_FOUND when none does, INVALID_DIVISION_CODE for a bad code."""
        return self._nodes[self.map.owner(division).id]

    def owner_or_none(self, code: str, level: Level | None = None) -> Node | None:
        """The node keeping the row of ``level`` about the division ``code``: the owner
        of its ancestor at that level (``NodeMap.owner_or_none``, the one rule)."""
        spec = self.map.owner_or_none(code, level)
        return None if spec is None else self._nodes[spec.id]

    def of_org(self, org_code: str, level: Level) -> Node:
        """The node holding an org of ``level`` known by its credit code alone: its
        characters 3–8 are the registering county's (or city's) division, which is
        as far as a credit code says; the one node of the level when it says nothing.
        Where several nodes hold the level in that area (a town of the county on a
        node of its own), ``org_nodes`` says which, and the org's row decides."""
        area = _area(org_code)
        found = self.owner_or_none(area, level) if area is not None else None
        return found if found is not None else self.single(level)

    def org_nodes(self, org_code: str, level: Level) -> list[Node]:
        """The nodes an org of ``level`` known by its credit code may be kept by: those
        holding the level in the code's area (every node holding it when the code
        names none). One node: the credit code decides; several: the org's division."""
        area = _area(org_code)
        return self.holding(level, area) if area is not None else self.holding(level)

    def owner_at(self, code: str, level: Level) -> Node:
        """The node keeping the row of ``level`` about the division ``code`` starts with
        (12 digits of a case number, a window or department id): the owner of that
        division's ancestor at ``level`` (``owner_or_none``) — a city-level row about
        a village of 榆次区 is at the city node, a county-level one at 榆次区's, whatever
        node its town is on; the one node of the level when no node owns it."""
        found = self.owner_or_none(code[:12], level)
        return found if found is not None else self.single(level)

    def holding(self, level: Level, under: str | DivisionCode | None = None) -> list[Node]:
        """The nodes that may own a division of ``level`` at or under ``under``."""
        key = (level, under.code if isinstance(under, DivisionCode) else under)
        found = self._holding.get(key)
        if found is None:
            found = tuple(self._nodes[s.id] for s in self.map.holding(level, under))
            if len(self._holding) >= HOLDING_KEPT:  # ranges come from requests: bounded
                self._holding.clear()
            self._holding[key] = found
        return list(found)

    def covering(
        self, levels: Iterable[Level], under: str | DivisionCode | None = None
    ) -> list[Node]:
        """The nodes holding any of ``levels`` at or under ``under``, each once, in map
        order: a list over several levels asks each of these once."""
        chosen = {n.id for level in levels for n in self.holding(level, under)}
        return [n for n in self if n.id in chosen]

    def stores(self) -> list[Store]:
        return [*self, self.identity]

    async def dispose(self) -> None:
        clients = [n.client.close() for n in self if n.client is not None]
        await asyncio.gather(*(s.engine.dispose() for s in self.stores()), *clients)


def _area(org_code: str) -> str | None:
    """The division a credit code's characters 3–8 name (its registering county's or
    city's), when they name one."""
    area = org_code[2:8] + "000000"
    return area if len(org_code) == 18 and level_of_division(area) is not None else None


@contextmanager
def count_statements(nodes: NodeRegistry) -> Iterator[dict[str, int]]:
    """SQL statements per store (``before_cursor_execute``) while the block runs."""
    counts = {store.name: 0 for store in nodes.stores()}
    listeners: list[tuple[Any, Callable[..., None]]] = []
    for store in nodes.stores():

        def listener(*_args: Any, _name: str = store.name) -> None:
            counts[_name] += 1

        event.listen(store.engine.sync_engine, "before_cursor_execute", listener)
        listeners.append((store.engine.sync_engine, listener))
    try:
        yield counts
    finally:
        for engine, listener in listeners:
            event.remove(engine, "before_cursor_execute", listener)
