"""Which divisions a node answers for. A node owns the divisions the node map gives it
(longest prefix, DESIGN §2); a call about any other division is refused with
``DIVISION_NOT_OWNED``, so a hub whose map is out of date learns it at once instead of
reading an empty answer as "none"."""

from __future__ import annotations

from dataclasses import dataclass

from levels.common.codes import DivisionCode, Field, field_path, parse_division
from levels.common.enums import Level
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
        owner = self.nodes.owner_or_none(code.code, code.level)
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

    def require_range(self, code: str, *, field: Field = "under") -> DivisionCode:
        """A division whose range this node serves at least part of: it owns the
        division, or a prefix of its own lies inside the division's range (a node that
        holds one town of a county answers for that town's share of the county)."""
        division = parse_division(code, field=field)
        if self.owns(division):
            return division
        inside = any(
            p.startswith(division.prefix) and p != division.prefix for p in self.node.prefixes
        )
        if not inside:
            raise DomainError(
                ErrorCode.DIVISION_NOT_OWNED, field=field_path(field), detail=division.code
            )
        return division

    def on_the_way(self, code: str) -> bool:
        """Whether this node owns a division on ``code``'s way up (the division or one
        of its ancestors): where a case received there can be held, as it is referred
        upward level by level."""
        division = parse_division(code)
        return any(self.owns(d) for d in division.chain)
