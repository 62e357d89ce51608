"""Which divisions a node answers for. A node owns the divisions the node map gives it
(longest prefix among the nodes holding the division's level, DESIGN §2; a row of
another level about a division is kept by the owner of its ancestor at that level,
``NodeMap.owner_or_none``); a call about any other division is refused with
``DIVISION_NOT_OWNED``, so a hub whose map is out of date learns it at once instead of
reading an empty answer as "none"."""

from __future__ import annotations

from dataclasses import dataclass

from levels.common.codes import DivisionCode, Field, field_path, parse_division
from levels.common.enums import LEVELS, Level
from levels.common.errors import DomainError, ErrorCode
from levels.common.nodemap import NodeMap, NodeSpec


@dataclass(frozen=True)
class NodeScope:
    """One node of a node map, and the map it is read against."""

    node: NodeSpec
    nodes: NodeMap

    @property
    def id(self) -> str:
        return self.node.id

    def owns(self, code: DivisionCode) -> bool:
        return self.keeps(code.code, code.level)

    def keeps(self, code: str, level: Level) -> bool:
        """Whether this node keeps the rows of ``level`` about the division ``code``
        (it owns the division's ancestor at that level)."""
        owner = self.nodes.owner_or_none(code, level)
        return owner is not None and owner.id == self.node.id

    def holds(self, level: Level) -> bool:
        return self.node.holds(level)

    def require(self, code: str, *, field: Field = "divisionCode") -> DivisionCode:
        """The parsed division, when this node owns it; else ``DIVISION_NOT_OWNED``."""
        division = parse_division(code, field=field)
        if not self.owns(division):
            raise DomainError(
                ErrorCode.DIVISION_NOT_OWNED, field=field_path(field), detail=division.code
            )
        return division

    def require_range(
        self, code: str, *, field: Field = "under", upward: bool = False
    ) -> DivisionCode:
        """A division whose range this node serves at least part of: it owns a
        division at or under it, at any level (the node map's ``holding``: a town node
        answers for its towns' share of a county); ``upward``: or it owns one of the
        division's ancestors (where what came in there is referred to)."""
        division = parse_division(code, field=field)
        below = LEVELS[LEVELS.index(division.level) :]
        serves = any(
            any(n.id == self.node.id for n in self.nodes.holding(level, division))
            for level in below
        )
        if not serves and not (upward and any(self.owns(d) for d in division.chain)):
            raise DomainError(
                ErrorCode.DIVISION_NOT_OWNED, field=field_path(field), detail=division.code
            )
        return division

    def on_the_way(self, code: str, *, field: Field = "divisionCode") -> bool:
        """Whether this node owns a division on ``code``'s way up (the division or one
        of its ancestors): where a case received there can be held, as it is referred
        upward level by level."""
        division = parse_division(code, field=field)
        return any(self.keeps(division.code, d.level) for d in division.chain)
