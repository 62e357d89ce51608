"""The loaders of ratings (好差评), rectifications and complaints, and of a node's
working-day calendar: each asks only the node concerned (the division a key names, at
its level), through the node's API when it has an address (``orgRecords``,
``workCalendar``), else by SQL."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable, Sequence
from typing import Any, ClassVar

from sqlalchemy.ext.asyncio import AsyncSession

from levels.calendar.reads import read_calendar
from levels.calendar.workdays import WorkCalendar
from levels.common.enums import Level
from levels.evaluations import service as evaluation_service
from levels.evaluations.models import Complaint, Evaluation, Rectification
from levels.node.records import OrgRecordKind
from resolvers import remote, remote_lists
from resolvers.level_loader import LevelLoader, R
from resolvers.nodeclient import NodeClient
from resolvers.registry import Node

# a rating's rectification: (the rating's level, its division, its id in that store)
EvaluationKey = tuple[Level, str, int]


class RectificationByEvaluationLoader(LevelLoader[EvaluationKey, Rectification]):
    """The rectification of a rating, keyed by the rating's level, division and id: asked
    of the node holding the rating (the owner of its division at its level)."""

    remote = True

    def levels_of(self, key: EvaluationKey) -> Sequence[Level]:
        return (key[0],)

    def division_of(self, key: EvaluationKey) -> str | None:
        return key[1]

    def node_key(self, key: EvaluationKey) -> Any:
        return key[2]

    async def fetch(self, keys: list[int], *, session: AsyncSession) -> Sequence[Rectification]:
        return await evaluation_service.rectifications_by_evaluation(keys, session=session)

    async def fetch_remote(self, keys: list[int], *, client: NodeClient) -> Sequence[Any]:
        kind = OrgRecordKind.RECTIFICATIONS_OF_EVALUATION
        return await remote.org_records(client, kind, [str(k) for k in keys])

    def answers(self, level: Level, row: Rectification) -> EvaluationKey:
        return (level, row.division_code, row.evaluation_id)


class EvaluationRowByPublicIdLoader(LevelLoader[tuple[Level, str], R]):
    """A rating, rectification or complaint by its level and public key (``node(id:)``),
    asked of the node holding it: the key leads with the division its case was received
    at, and the row is held by the owner of that division at the level."""

    model: ClassVar[Any]
    kind: ClassVar[OrgRecordKind]
    remote = True

    def levels_of(self, key: tuple[Level, str]) -> Sequence[Level]:
        return (key[0],)

    def division_of(self, key: tuple[Level, str]) -> str | None:
        return key[1][:12] if key[1][:12].isdigit() else None

    def node_key(self, key: tuple[Level, str]) -> Any:
        return key[1]

    async def fetch(self, keys: list[str], *, session: AsyncSession) -> Sequence[R]:
        return await evaluation_service.by_public_id(self.model, keys, session=session)

    async def fetch_remote(self, keys: list[str], *, client: NodeClient) -> Sequence[R]:
        return await remote.org_records(client, self.kind, keys)

    def answers(self, level: Level, row: Any) -> tuple[Level, str]:
        return (level, row.public_id)


class EvaluationByPublicIdLoader(EvaluationRowByPublicIdLoader[Evaluation]):
    model = Evaluation
    kind = OrgRecordKind.EVALUATIONS


class RectificationByPublicIdLoader(EvaluationRowByPublicIdLoader[Rectification]):
    model = Rectification
    kind = OrgRecordKind.RECTIFICATIONS


class ComplaintByPublicIdLoader(EvaluationRowByPublicIdLoader[Complaint]):
    model = Complaint
    kind = OrgRecordKind.COMPLAINTS


# a node's calendar: (a level, a division at that level or under it — None: the one
# node holding the level; no node: the built-in calendar)
CalendarKey = tuple[Level, str | None]


class CalendarByLevelLoader(LevelLoader[CalendarKey, WorkCalendar]):
    """The working-day calendar (its override table) of the node holding a level for a
    division, once per request and node: keyed by (level, division), asked of the owner
    of the division at that level only (the one node holding the level without one)."""

    remote = True

    def levels_of(self, key: CalendarKey) -> Sequence[Level]:
        return (key[0],)

    def nodes_of(self, key: CalendarKey, level: Level) -> list[Node]:
        registry = self.sessions.nodes
        if key[1] is None:  # the one node holding the level (none when several do)
            holding = registry.holding(level)
            return holding if len(holding) == 1 else []
        owner = registry.owner_or_none(key[1][:12], level)
        return [owner] if owner is not None else []

    def node_of(self, key: CalendarKey) -> Node | None:
        nodes = self.nodes_of(key, key[0])
        return nodes[0] if nodes else None

    def get_cache_key(self, key: CalendarKey) -> Hashable:  # type: ignore[override]
        # one calendar per node: the keys of one node share it
        node = self.node_of(key)
        return None if node is None else node.id

    async def fetch(self, keys: list[Any], *, session: AsyncSession) -> Sequence[WorkCalendar]:
        return [await read_calendar(session=session)]

    async def fetch_remote(self, keys: list[Any], *, client: NodeClient) -> Sequence[WorkCalendar]:
        return [await remote_lists.work_calendar(client)]

    def prime_from(self, level: Level, session: AsyncSession, calendar: WorkCalendar) -> None:
        """A write read ``calendar`` in ``session``: it answers, for the rest of the
        request, the node holding ``level`` whose store that session is on."""
        for node in self.sessions.nodes.holding(level):
            if node.engine is session.bind and node.id not in self._cache:
                done = asyncio.get_running_loop().create_future()
                done.set_result(calendar)
                self._cache[node.id] = done  # type: ignore[index]

    def answers(self, level: Level, row: WorkCalendar) -> Any:
        raise NotImplementedError  # one calendar per node: see ``batch_load_fn``

    async def batch_load_fn(self, keys: list[CalendarKey]) -> list[Any]:
        # each node asked once, its one calendar answering every key sent to it
        asked: dict[str, Node] = {}
        of_key: list[Node | None] = []
        for key in keys:
            node = self.node_of(key)
            of_key.append(node)
            if node is not None:
                asked.setdefault(node.id, node)
        ids = list(asked)
        outcomes = await asyncio.gather(
            *(self.ask(asked[i], ["calendar"]) for i in ids), return_exceptions=True
        )
        by_node: dict[str, Any] = {}
        for node_id, outcome in zip(ids, outcomes, strict=True):
            by_node[node_id] = outcome if isinstance(outcome, BaseException) else outcome[0]
        return [WorkCalendar.from_rows([], []) if n is None else by_node[n.id] for n in of_key]
