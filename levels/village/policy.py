"""Village station: receives for residents by proxy, decides only immediate village
matters, forwards everything else to the town."""

from levels.common.enums import HandlingKind, Level, OrgKind
from levels.common.policy import LevelPolicy

VILLAGE_POLICY = LevelPolicy(
    level=Level.VILLAGE,
    org_kinds=frozenset({OrgKind.CONVENIENCE_STATION}),
    decides=frozenset({HandlingKind.IMMEDIATE}),
    forwards_up=True,
    delegates=False,
    takes_delegations=False,
    reviews_preliminarily=False,
)
