"""许可结果公开 in the schema: ``PublicDecision``, a decided case as the public may read
it (000: "应当将许可结果予以公开，公众有权查阅"). Its own type, not ``Case``: it holds the
public fields and nothing that could lead further (no case, no applicant, no
materials), so no nested field can ever show more."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from auth.policy import Resource, Target
from levels.cases.publicity import public_applicant
from levels.cases.service import china_date
from schema.enums import ApplicantKind, Decision, Level
from schema.info import Info


def public_decision_target(division_code: str) -> Target:
    return Target(Resource.PUBLIC_DECISION, division_code=division_code)


@strawberry.type(
    description="许可结果公开: a decided case as anyone may read it — the matter, the org "
    "that decided, the decision and its day, and who applied (an enterprise's name, a "
    "person's masked name); never an ID number, account, phone or material"
)
class PublicDecision:
    matter_name: str = strawberry.field(description="The matter decided")
    basic_code: str = strawberry.field(description="Its basic code")
    implementation_code: str = strawberry.field(description="The item decided under")
    org_code: str = strawberry.field(description="The service org that decided")
    level: Level = strawberry.field(description="The level that decided")
    division_code: str = strawberry.field(description="Where it was decided")
    decision: Decision = strawberry.field(description="准予 or 不予许可")
    decided_on: dt.date = strawberry.field(description="The day of the decision (China date)")
    applicant_kind: ApplicantKind = strawberry.field(description="A person or an enterprise")
    applicant: str = strawberry.field(
        description="An enterprise's name; a person's name masked (张*): never in full"
    )

    def authz_target(self) -> Target:
        return public_decision_target(self.division_code)

    @classmethod
    def from_row(cls, row: Any) -> PublicDecision:
        """From a row of ``levels.cases.publicity.PUBLIC_COLUMNS``."""
        return cls(
            matter_name=row.matter_name,
            basic_code=row.basic_code,
            implementation_code=row.implementation_code,
            org_code=row.org_code,
            level=row.level,
            division_code=row.division_code,
            decision=row.decision,
            decided_on=china_date(row.decided_at),
            applicant_kind=row.applicant_kind,
            applicant=public_applicant(row.applicant_kind, row.applicant_name),
        )

    @strawberry.field(description="The name of the service org that decided")
    async def org_name(self, info: Info) -> str:
        org = await info.context.loaders.service_org_by_code.load((self.level, self.org_code))
        return org.name if org is not None else ""
