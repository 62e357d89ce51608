"""转报 beyond sending the case up (``referCase``): the station completes the file before
it refers it, and the deciding org may tell the station — never the resident — once what
the file lacks, which the station supplies (levels/cases/referral_rules.py). Kept apart
from ``schema/mutation.py``; the root Mutation includes them."""

from __future__ import annotations

import strawberry

from auth.permissions import IsAuthenticated
from resolvers import cases, referrals
from schema.case_inputs import MissingMaterialInput, SupplementInput
from schema.cases import CasePayload
from schema.info import Info
from schema.payloads import version_check


@strawberry.input(description="一次性告知 to the station that received a referred case")
class StationNoticeInput:
    number: str = strawberry.field(description="The case number")
    materials: list[MissingMaterialInput] = strawberry.field(
        description="What the file lacks or has wrong, with what is wrong; materials "
        "still missing are added"
    )
    expected_version: int | None = version_check()


@strawberry.type
class ReferralMutation:
    @strawberry.mutation(
        description="收集: the org holding a case below its deciding level (the station's "
        "agent or receptionist, or the town that reviews first) adds what the file lacks, "
        "before referCase — which refuses an incomplete file (REFERRAL_INCOMPLETE)",
        permission_classes=[IsAuthenticated],
    )
    async def complete_referral_file(self, info: Info, input: SupplementInput) -> CasePayload:
        drafts = cases.material_drafts(input.materials)
        return await referrals.complete_file(info, input.number, drafts, input.expected_version)

    @strawberry.mutation(
        description="一次性告知 to the station: the deciding org lists, once, what a referred "
        "file lacks; the station supplies it (the resident is not asked again) and the "
        "decision waits until then (receptionist or reviewer)",
        permission_classes=[IsAuthenticated],
    )
    async def notify_station(self, info: Info, input: StationNoticeInput) -> CasePayload:
        missing = [(m.name, m.note) for m in input.materials]
        return await referrals.notify_station(info, input.number, missing, input.expected_version)

    @strawberry.mutation(
        description="The station that received a referred case supplies everything the "
        "deciding org's notice listed; the case records that the resident did not come "
        "again (the station's agent, or its receptionist)",
        permission_classes=[IsAuthenticated],
    )
    async def supplement_at_station(self, info: Info, input: SupplementInput) -> CasePayload:
        drafts = cases.material_drafts(input.materials)
        return await referrals.supplement_at_station(
            info, input.number, drafts, input.expected_version
        )
