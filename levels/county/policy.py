"""County centre: decides county matters, delegates to towns, accepts referrals."""

from levels.common.enums import HandlingKind, Level, OrgKind
from levels.common.policy import LevelPolicy

COUNTY_POLICY = LevelPolicy(
    level=Level.COUNTY,
    org_kinds=frozenset({OrgKind.SERVICE_CENTER, OrgKind.BRANCH_CENTER}),
    decides=frozenset({HandlingKind.IMMEDIATE, HandlingKind.PROMISED}),
    forwards_up=True,
    delegates=True,
    takes_delegations=False,
    reviews_preliminarily=False,
)
