"""What a level may do (DESIGN §4). Each ``levels/<level>/policy.py`` instantiates one;
services consult it instead of testing the level by name."""

from __future__ import annotations

from dataclasses import dataclass

from levels.common.enums import HandlingKind, Level, OrgKind


@dataclass(frozen=True)
class LevelPolicy:
    level: Level
    org_kinds: frozenset[OrgKind]
    # handling kinds this level may decide itself
    decides: frozenset[HandlingKind]
    # may receive applications for matters decided above it and forward them
    forwards_up: bool
    # may hand matters down to the level below (委托/下放)
    delegates: bool
    # may take delegated matters from the level above
    takes_delegations: bool
    # may do the preliminary review (初审) of matters decided above it
    reviews_preliminarily: bool

    def may_implement(self, kind: HandlingKind) -> bool:
        return kind in self.decides
