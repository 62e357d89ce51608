"""网上预审 (001 "收到网上申请后应于2个工作日…内将预审结果…告知"): the mutation that tells the
applicant of an online application its pre-review result. Kept apart from
``schema/mutation.py``; the root Mutation includes it."""

from __future__ import annotations

import strawberry

from auth.permissions import IsAuthenticated
from resolvers import prereview
from schema.case_clocks import RecordPreReviewInput
from schema.cases import CasePayload
from schema.info import Info


@strawberry.type
class PreReviewMutation:
    @strawberry.mutation(
        description="网上预审: tell the applicant of an online application (WEB, MOBILE) the "
        "result within 2 working days of receipt — PASSED, or INCOMPLETE with every "
        "material missing or wrong; once, before the case is taken up (receptionist). "
        "The applicant reads it on case.preReview.message",
        permission_classes=[IsAuthenticated],
    )
    async def record_pre_review(self, info: Info, input: RecordPreReviewInput) -> CasePayload:
        missing = [(m.name.strip(), m.note) for m in input.missing]
        return await prereview.give_pre_review(
            info, input.number, input.result, missing, input.expected_version
        )
