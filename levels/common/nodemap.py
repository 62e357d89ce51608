"""The node map: which node owns which divisions (DESIGN §2, Nodes).

A node is one deployment — its own database, migrations, timers, audit chains and
inbox — that owns the divisions under one or more division-code prefixes, optionally
only at some levels. The hub finds a division's node by the longest matching prefix
among the nodes that hold the division's level. A row of another level about a
division (a case referred up from a village to its county, a licence of the city about
a resident's village) is kept by the node owning the division's ancestor at that level
(``owner_or_none``). Nothing else routes.

Topologies (all expressed in the same TOML shape, ``GOVHUB_NODES``)::

    # embedded default: one node per level, in the hub's process
    [[nodes]]  id = "city"     prefixes = [""]  levels = ["CITY"]
    ...
    # per county: a city node and one node per county
    [[nodes]]  id = "jinzhong"  prefixes = ["140700"]
    [[nodes]]  id = "yuci"      prefixes = ["140702"]   address = "http://10.1.2.3:8100"
    # mixed: one town of 榆次区 on a node of its own
    [[nodes]]  id = "yuci-101"  prefixes = ["140702101"]

This module is pure: parsing, validation, lookups. Engines, clients and health live
in the hub."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from levels.common.codes import DivisionCode, level_of_division, parse_division
from levels.common.enums import LEVELS, Level
from levels.common.errors import DomainError, ErrorCode

IN_PROCESS = "inprocess"
# a node id: ASCII letters, digits, ``-`` and ``_``, starting with a letter or digit, up
# to NODE_ID_MAX characters. Its message-signing key is kept as the org ``node:<id>``
# (``licence_keys.org_code``, 64 characters) and the key's kid is that org plus
# ``-YYYYMMDD-xxxxxx`` (``licence_keys.kid``, 64 characters): 5 + 40 + 16 = 61
NODE_ID_MAX = 40
_NODE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


class NodeMapError(ValueError):
    """The node map is not usable (a configuration error, found at start-up)."""


@dataclass(frozen=True)
class NodeSpec:
    """One node of the map: its id, the prefixes it owns, the levels it holds (all when
    empty), its database URL (None: the default file of the embedded store) and the
    address the hub calls it at (``inprocess`` or an ``http(s)://`` base URL)."""

    id: str
    prefixes: tuple[str, ...]
    levels: frozenset[Level] = field(default_factory=frozenset)
    database: str | None = None
    address: str = IN_PROCESS

    def holds(self, level: Level) -> bool:
        """Whether a division of ``level`` can belong to this node: the level is one
        it holds and one of its prefixes can start a code of that level (``140702``
        holds no city: every city code has ``00`` where it has ``02``)."""
        if self.levels and level not in self.levels:
            return False
        return any(_prefix_reaches(p, level) for p in self.prefixes)

    @property
    def in_process(self) -> bool:
        return self.address == IN_PROCESS

    def match(self, code: str, level: Level) -> int:
        """The length of the longest prefix of this node that starts ``code`` and can
        start a code of ``level``; -1 when the node does not hold ``level`` there."""
        if self.levels and level not in self.levels:
            return -1
        return max(
            (len(p) for p in self.prefixes if code.startswith(p) and _prefix_reaches(p, level)),
            default=-1,
        )

    def describe(self) -> str:
        prefixes = ", ".join(p or "*" for p in self.prefixes)
        levels = "/".join(lv.value for lv in LEVELS if lv in self.levels) if self.levels else ""
        return f"{prefixes}{' (' + levels + ')' if levels else ''}"


class NodeMap:
    """The configured nodes, with the lookups the hub routes by."""

    def __init__(self, nodes: Iterable[NodeSpec]) -> None:
        self.nodes: tuple[NodeSpec, ...] = tuple(nodes)
        self._by_id = {n.id: n for n in self.nodes}
        _validate(self.nodes)

    # --- building -------------------------------------------------------------------

    @classmethod
    def embedded(cls) -> NodeMap:
        """Today's default: one node per level, each owning every division of its level,
        in the hub's process (ids ``city``, ``county``, ``town``, ``village``)."""
        return cls(NodeSpec(level.value.lower(), ("",), frozenset({level})) for level in LEVELS)

    @classmethod
    def from_toml(cls, text: str) -> NodeMap:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise NodeMapError(f"node map is not valid TOML: {exc}") from exc
        return cls.from_mapping(data)

    @classmethod
    def from_file(cls, path: str | Path) -> NodeMap:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise NodeMapError(f"cannot read the node map {path}: {exc}") from exc
        return cls.from_toml(text)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> NodeMap:
        entries = data.get("nodes")
        if not isinstance(entries, list) or not entries:
            raise NodeMapError("node map: expected a non-empty [[nodes]] list")
        return cls(_spec(entry) for entry in entries)

    # --- lookups --------------------------------------------------------------------

    def __iter__(self) -> Iterator[NodeSpec]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def __getitem__(self, node_id: str) -> NodeSpec:
        try:
            return self._by_id[node_id]
        except KeyError:
            raise KeyError(f"no node {node_id!r} in the node map") from None

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._by_id

    def owner(self, division: str | DivisionCode) -> NodeSpec:
        """The node that owns a division: the longest matching prefix among the nodes
        holding its level. A malformed code is INVALID_DIVISION_CODE; a division no node
        owns is DIVISION_NOT_FOUND (the network does not serve it)."""
        code = division if isinstance(division, DivisionCode) else parse_division(division)
        found = self.owner_or_none(code.code, code.level)
        if found is None:
            raise DomainError(
                ErrorCode.DIVISION_NOT_FOUND, field=["divisionCode"], detail=code.code
            )
        return found

    def owner_or_none(self, code: str, level: Level | None = None) -> NodeSpec | None:
        """The node holding the row of ``level`` (the code's own when None) about the
        division ``code``: the owner of the division's ancestor at ``level`` — the
        longest prefix matching that ancestor's code among the nodes holding ``level``.
        A county-level row about a village of 榆次区 is at the node owning 榆次区, never
        at a node of one of its towns; a city-level row about it at the city node, never
        at 榆次区's. For a division above ``level`` (a county, asked at the town level)
        it is the node covering the division's range at ``level``. None when the code
        is not a division's or no node holds it. Every "which node keeps this row"
        lookup goes through here (the message worker's ``levels/outbox/ownership.py``
        too)."""
        own = level_of_division(code)
        if own is None:
            return None
        target = level or own
        division = DivisionCode(code, own)
        at = division.at(target)
        key = at.code if at is not None else division.prefix
        best, best_len = None, -1
        for node in self.nodes:
            length = node.match(key, target)
            if length > best_len:
                best, best_len = node, length
        return best

    def holding(self, level: Level, under: str | DivisionCode | None = None) -> list[NodeSpec]:
        """The nodes that may own a division of ``level`` at or under ``under`` (all
        such nodes when None), in map order: the owner of the range's root and every
        node holding the level with a prefix inside the range. Lists scoped to a
        division fan out to these and no others."""
        if under is None:
            return [n for n in self.nodes if n.holds(level)]
        root = under if isinstance(under, DivisionCode) else parse_division(under)
        prefix = root.prefix
        chosen = {
            n.id
            for n in self.nodes
            if n.holds(level) and any(p.startswith(prefix) and p != prefix for p in n.prefixes)
        }
        # the owner of the range as a whole (of its ancestor at ``level``, when below it)
        covering = self.owner_or_none(root.code, level)
        if covering is not None:
            chosen.add(covering.id)
        return [n for n in self.nodes if n.id in chosen]

    def single(self, level: Level) -> NodeSpec | None:
        """The one node holding ``level`` when exactly one does (as in the embedded
        default and for the city level of a per-county map), else None."""
        nodes = self.holding(level)
        return nodes[0] if len(nodes) == 1 else None


# the digits of a code that name its own segment, per level: county 4:6, town 6:9, …
_SEGMENT = {Level.CITY: (2, 4), Level.COUNTY: (4, 6), Level.TOWN: (6, 9), Level.VILLAGE: (9, 12)}


def _prefix_reaches(prefix: str, level: Level) -> bool:
    """Whether some division code of ``level`` starts with ``prefix``: its own segment
    is not all zeros where the prefix fixes it, and everything below it is zeros."""
    start, end = _SEGMENT[level]
    own = prefix[start:end]
    if len(own) == end - start and set(own) == {"0"}:
        return False
    return set(prefix[end:]) <= {"0"}


def check_node_id(node_id: object) -> None:
    """Raise NodeMapError unless ``node_id`` is a usable node id (``NODE_ID_MAX``)."""
    if not isinstance(node_id, str) or not _NODE_ID.fullmatch(node_id):
        raise NodeMapError(
            f"node map: bad node id {node_id!r} (ASCII letters, digits, - and _, "
            "starting with a letter or digit)"
        )
    if len(node_id) > NODE_ID_MAX:
        raise NodeMapError(
            f"node map: node id {node_id!r} is {len(node_id)} characters, longer than {NODE_ID_MAX}"
        )


def _spec(entry: Any) -> NodeSpec:
    if not isinstance(entry, Mapping):
        raise NodeMapError(f"node map: each [[nodes]] entry is a table, not {entry!r}")
    node_id = entry.get("id")
    check_node_id(node_id)
    assert isinstance(node_id, str)
    prefixes = entry.get("prefixes")
    if not isinstance(prefixes, list) or not prefixes:
        raise NodeMapError(f"node {node_id}: prefixes must be a non-empty list")
    for p in prefixes:
        if not isinstance(p, str) or len(p) > 12 or (p and not (p.isascii() and p.isdigit())):
            raise NodeMapError(f"node {node_id}: bad prefix {p!r} (up to 12 digits)")
    levels = entry.get("levels", [])
    try:
        held = frozenset(Level(str(lv).upper()) for lv in levels)
    except ValueError as exc:
        raise NodeMapError(f"node {node_id}: bad level in {levels!r}") from exc
    database = entry.get("database")
    if database is not None and not isinstance(database, str):
        raise NodeMapError(f"node {node_id}: database must be a URL string")
    address = entry.get("address", IN_PROCESS)
    if not isinstance(address, str) or not (
        address == IN_PROCESS or address.startswith(("http://", "https://"))
    ):
        raise NodeMapError(f"node {node_id}: address is 'inprocess' or an http(s):// URL")
    unknown = set(entry) - {"id", "prefixes", "levels", "database", "address"}
    if unknown:
        raise NodeMapError(f"node {node_id}: unknown keys {sorted(unknown)}")
    return NodeSpec(node_id, tuple(prefixes), held, database, address.rstrip("/"))


def _validate(nodes: tuple[NodeSpec, ...]) -> None:
    seen: set[str] = set()
    for node in nodes:
        check_node_id(node.id)
        if node.id in seen:
            raise NodeMapError(f"node map: node id {node.id!r} appears twice")
        seen.add(node.id)
    # two nodes with the same prefix holding a common level would split one range
    for i, a in enumerate(nodes):
        for b in nodes[i + 1 :]:
            shared = set(a.prefixes) & set(b.prefixes)
            levels = (a.levels or frozenset(LEVELS)) & (b.levels or frozenset(LEVELS))
            if shared and levels:
                raise NodeMapError(
                    f"node map: nodes {a.id!r} and {b.id!r} both own prefix "
                    f"{sorted(shared)[0]!r} at {sorted(lv.value for lv in levels)}"
                )
    for level in LEVELS:
        if not any(n.holds(level) for n in nodes):
            raise NodeMapError(f"node map: no node holds the {level.value} level")
