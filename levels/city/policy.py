"""City centre: owns the catalogue, decides city matters, keeps the e-licence library."""

from levels.common.enums import HandlingKind, Level, OrgKind
from levels.common.policy import LevelPolicy

CITY_POLICY = LevelPolicy(
    level=Level.CITY,
    org_kinds=frozenset({OrgKind.SERVICE_CENTER, OrgKind.BRANCH_CENTER}),
    decides=frozenset({HandlingKind.IMMEDIATE, HandlingKind.PROMISED}),
    forwards_up=False,
    delegates=False,
    takes_delegations=False,
    reviews_preliminarily=False,
)
