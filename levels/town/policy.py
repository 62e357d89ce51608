"""Town centre: decides town and delegated matters, reviews first and reports up."""

from levels.common.enums import HandlingKind, Level, OrgKind
from levels.common.policy import LevelPolicy

TOWN_POLICY = LevelPolicy(
    level=Level.TOWN,
    org_kinds=frozenset({OrgKind.CONVENIENCE_CENTER}),
    decides=frozenset({HandlingKind.IMMEDIATE, HandlingKind.PROMISED}),
    forwards_up=True,
    delegates=False,
    takes_delegations=True,
    reviews_preliminarily=True,
)
