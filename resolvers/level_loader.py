"""The base of every per-request DataLoader (``resolvers/loaders.py``,
``resolvers/village_loaders.py``): keys grouped by the node that holds them, each
node asked once, in parallel, rows returned in key order.

A key names the levels it may live at (``levels_of``) and, where it can, the division
it belongs to (``division_of``): the key then goes to the owner of that division at
each level; a key without a division goes to every node holding the level."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from typing import Any, ClassVar, Generic, TypeVar, overload

from aiodataloader import DataLoader
from sqlalchemy.ext.asyncio import AsyncSession

from levels.common.codes import level_of_division
from levels.common.enums import LEVELS, Level
from resolvers.fanout import NodeUnavailable, call_api, call_node
from resolvers.nodeclient import NodeClient
from resolvers.registry import Node
from resolvers.sessions import RequestSessions

K = TypeVar("K", bound=Hashable)
R = TypeVar("R")
T = TypeVar("T")


class PerRequest(Generic[T]):
    """A loader of a request's set, made on first use from the set's ``sessions`` and
    ``timeout``, then kept on the set (a plain attribute from then on)."""

    def __init__(self, make: Callable[[RequestSessions, float], T]) -> None:
        self.make = make
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type) -> PerRequest[T]: ...

    @overload
    def __get__(self, obj: object, owner: type) -> T: ...

    def __get__(self, obj: object | None, owner: type) -> PerRequest[T] | T:
        if obj is None:
            return self
        made = obj.__dict__[self.name] = self.make(obj.sessions, obj.timeout)  # type: ignore[attr-defined]
        return made


class LevelLoader(DataLoader[K, Any], Generic[K, R]):
    """Batches keys per node. Subclasses say where a key lives, how to fetch a batch
    from one node, and which key a fetched row answers."""

    many: ClassVar[bool] = False
    # whether ``fetch_remote`` serves a node reached through its API
    remote: ClassVar[bool] = False
    # (with ``many``) a key asked of several nodes answers the rows of those that
    # answered when some did not, their failures kept in ``failed``; the failure
    # itself only when none answered
    partial: ClassVar[bool] = False

    def __init__(self, sessions: RequestSessions, timeout: float) -> None:
        super().__init__()
        self.sessions = sessions
        self.timeout = timeout
        self._failed: dict[Any, list[NodeUnavailable]] = {}

    def failed(self, key: K) -> list[NodeUnavailable]:
        """The nodes that did not answer ``key`` (a ``partial`` loader's rows of it are
        the others')."""
        return self._failed.get(key, [])

    def levels_of(self, key: K) -> Sequence[Level]:
        raise NotImplementedError

    def division_of(self, key: K) -> str | None:
        """The 12-digit division a key belongs to, when the key says (None: ask every
        node holding the key's level)."""
        return None

    def node_key(self, key: K) -> Any:
        """The value sent to the node's query for ``key`` (the key itself by default)."""
        return key

    async def fetch(self, keys: list[Any], *, session: AsyncSession) -> Sequence[R]:
        raise NotImplementedError

    async def fetch_remote(self, keys: list[Any], *, client: NodeClient) -> Sequence[R]:
        """``fetch`` through a node's API (for loaders with ``remote``)."""
        raise NotImplementedError

    async def ask(self, node: Node, keys: list[Any]) -> Sequence[R]:
        """One node's rows for ``keys``: through its API when it has one and this
        loader can, else through its store."""
        if node.client is not None and self.remote:
            return await call_api(
                self.sessions, node, lambda c: self.fetch_remote(keys, client=c), self.timeout
            )

        async def run(_node: Node, session: AsyncSession) -> Sequence[R]:
            return await self.fetch(keys, session=session)

        return await call_node(self.sessions, node, run, self.timeout)

    def answers(self, level: Level, row: R) -> Hashable:
        """The loader key a row fetched from a node of ``level`` answers."""
        raise NotImplementedError

    def nodes_of(self, key: K, level: Level) -> list[Node]:
        registry = self.sessions.nodes
        division = self.division_of(key)
        if division is not None:
            owner = registry.owner_or_none(division, level)
            return [owner] if owner is not None else []
        return registry.holding(level)

    async def load_page(self, keys: Sequence[K]) -> list[Any]:
        """The values of a page's keys in one batch (one statement per node), without
        the loader's future per key: each key's value, or the exception of the node
        that did not answer it. Not cached: for a page that keeps what it loaded."""
        unique = list(dict.fromkeys(keys))
        found = dict(zip(unique, await self.batch_load_fn(unique), strict=True))
        return [found[k] for k in keys]

    async def load_page_cached(self, keys: Sequence[K]) -> list[Any]:
        """``load_page`` through the loader's cache: a key the request has already
        loaded is answered from it, the others in one batch and kept in the cache for
        the rest of the request — a node's failure too, as ``load`` keeps it: a field's
        own load then reports it without asking the node again."""
        unique = list(dict.fromkeys(keys))
        found: dict[Any, Any] = {}
        pending: dict[Any, asyncio.Future[Any]] = {}
        missing: list[K] = []
        for key in unique:
            future = self._cache.get(self.get_cache_key(key))
            if future is None or future.cancelled():
                missing.append(key)
            elif future.done():
                found[key] = future.exception() or future.result()
            else:
                pending[key] = future
        if pending:
            settled = await asyncio.gather(*pending.values(), return_exceptions=True)
            found.update(zip(pending, settled, strict=True))
        if missing:
            for key, value in zip(missing, await self.batch_load_fn(missing), strict=True):
                found[key] = value
                if isinstance(value, Exception) or not isinstance(value, BaseException):
                    self.prime(key, value)
        return [found[k] for k in keys]

    async def batch_load_fn(self, keys: list[K]) -> list[Any]:
        asked: dict[str, set[Any]] = defaultdict(set)  # node id → loader keys
        sent: dict[str, set[Any]] = defaultdict(set)  # node id → node keys
        levels_at: dict[str, set[Level]] = defaultdict(set)
        key_nodes: dict[Any, list[str]] = {}
        for key in keys:
            ids = key_nodes.setdefault(key, [])
            for level in self.levels_of(key):
                for node in self.nodes_of(key, level):
                    asked[node.id].add(key)
                    sent[node.id].add(self.node_key(key))
                    levels_at[node.id].add(level)
                    ids.append(node.id)
        nodes = [n for n in self.sessions.nodes if n.id in asked]

        outcomes = await asyncio.gather(
            *(self.ask(node, sorted(sent[node.id])) for node in nodes),
            return_exceptions=True,
        )
        found: dict[Hashable, Any] = defaultdict(list) if self.many else {}
        failed: dict[str, BaseException] = {}
        for node, outcome in zip(nodes, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                failed[node.id] = outcome
                continue
            levels = [lv for lv in LEVELS if lv in levels_at[node.id]]
            if len(levels) == 1:
                # one level asked of the node (most pages): each row answers one key
                _collect(found, outcome, self.answers, levels[0], many=self.many)
                continue
            for row in outcome:
                answered = dict.fromkeys(self.answers(lv, row) for lv in levels)
                for k in answered:
                    if len(levels) > 1 and k not in asked[node.id]:
                        continue
                    if self.many:
                        found[k].append(row)
                    else:
                        found[k] = row
        results: list[Any] = []
        for key in keys:
            down = [failed[i] for i in key_nodes[key] if i in failed]
            asked_of = set(key_nodes[key])  # a node holding several levels is asked once
            if down and self.partial and self.many and len(set(failed) & asked_of) < len(asked_of):
                unique = dict.fromkeys(failed[i] for i in key_nodes[key] if i in failed)
                if all(isinstance(d, NodeUnavailable) for d in unique):
                    self._failed[key] = [d for d in unique if isinstance(d, NodeUnavailable)]
                    results.append(found.get(key, []))
                    continue
            if down:
                results.append(down[0])
            elif self.many:
                results.append(found.get(key, []))
            else:
                results.append(found.get(key))
        return results


def _division(code: str) -> str | None:
    return code[:12] if level_of_division(code[:12]) else None


class OrgScopedLoader(LevelLoader[tuple[Level, str], R]):
    """Keyed by (level, key) where the key alone does not say the level: a credit
    code, or a case number (a case moves up from the level that received it)."""

    def levels_of(self, key: tuple[Level, str]) -> Sequence[Level]:
        return (key[0],)

    def division_of(self, key: tuple[Level, str]) -> str | None:
        # a case number (receiving division + date + sequence) names its division; an
        # 18-character credit code does not
        return _division(key[1]) if len(key[1]) > 18 else None

    def node_key(self, key: tuple[Level, str]) -> str:
        return key[1]


def _collect(
    found: dict[Hashable, Any],
    rows: Sequence[Any],
    answers: Callable[[Level, Any], Hashable],
    level: Level,
    *,
    many: bool,
) -> None:
    """The rows a node answered for one level, each under the key it answers."""
    if many:
        for row in rows:
            found[answers(level, row)].append(row)
    else:
        for row in rows:
            found[answers(level, row)] = row
