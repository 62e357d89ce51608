"""At the counter, the steps the seeds add around acceptance: an on-spot correction
(当场更正), and the second person's word on a rejection the window proposed (窗口无否决权).
Kept apart from ``schema/mutation.py``; the root Mutation includes them."""

from __future__ import annotations

import strawberry

from auth.permissions import IsAuthenticated
from levels.cases.machine import Step
from levels.cases.service import StepInput
from resolvers import cases, tolerance
from schema.case_inputs import CaseActionInput, MaterialInput
from schema.cases import CasePayload
from schema.info import Info
from schema.payloads import version_check


@strawberry.input(description="当场更正: the materials corrected or completed at the counter")
class CorrectMaterialsInput:
    number: str = strawberry.field(description="The case number")
    materials: list[MaterialInput] = strawberry.field(
        description="Each material corrected or completed at the counter"
    )
    note: str | None = strawberry.field(default=None, description="A note kept with the step")
    expected_version: int | None = version_check()


@strawberry.input(description="容缺受理: promised materials handed in after acceptance")
class HandInToleratedInput:
    number: str = strawberry.field(description="The case number")
    materials: list[MaterialInput] = strawberry.field(
        description="Materials promised under 容缺承诺, handed in now"
    )
    expected_version: int | None = version_check()


@strawberry.input(description="容缺受理: a director lets the case be decided without them")
class OverrideToleranceInput:
    number: str = strawberry.field(description="The case number")
    reason: str = strawberry.field(description="Why the case may be decided without it")
    expected_version: int | None = version_check()


@strawberry.type
class CounterMutation:
    @strawberry.mutation(
        description="当场更正: the applicant corrects materials at the counter; no notice, no "
        "suspension — the case is accepted, its clock counting from receipt (receptionist)",
        permission_classes=[IsAuthenticated],
    )
    async def correct_materials(self, info: Info, input: CorrectMaterialsInput) -> CasePayload:
        given = StepInput(
            expected_version=input.expected_version,
            materials=cases.material_drafts(input.materials),
            detail={"note": input.note},
        )
        return await cases.take_step(info, input.number, Step.CORRECT_ON_SPOT, given)

    @strawberry.mutation(
        description="窗口无否决权: the department head approves the rejection the window "
        "proposed (rejectCase); it takes effect: REJECTED. Never the proposer's own",
        permission_classes=[IsAuthenticated],
    )
    async def approve_rejection(self, info: Info, input: CaseActionInput) -> CasePayload:
        given = StepInput(expected_version=input.expected_version, detail={"note": input.note})
        return await cases.take_step(info, input.number, Step.REJECT, given)

    @strawberry.mutation(
        description="窗口无否决权: the department head turns the proposed rejection down; the "
        "case is taken up as usual (note: why)",
        permission_classes=[IsAuthenticated],
    )
    async def decline_rejection(self, info: Info, input: CaseActionInput) -> CasePayload:
        given = StepInput(expected_version=input.expected_version, detail={"note": input.note})
        return await cases.take_step(info, input.number, Step.DECLINE_REJECTION, given)

    @strawberry.mutation(
        description="容缺受理: hand in, after acceptance, a material promised at receipt "
        "(the applicant, or the receptionist for them); refused once the promised day has "
        "passed (TOLERANCE_DEADLINE_PASSED)",
        permission_classes=[IsAuthenticated],
    )
    async def hand_in_tolerated_materials(
        self, info: Info, input: HandInToleratedInput
    ) -> CasePayload:
        drafts = cases.material_drafts(input.materials)
        return await tolerance.hand_in(info, input.number, drafts, input.expected_version)

    @strawberry.mutation(
        description="容缺受理: the director lets the case be approved without the promised "
        "material, for a reason (recorded and audited, once); the promise is waived",
        permission_classes=[IsAuthenticated],
    )
    async def override_tolerance(self, info: Info, input: OverrideToleranceInput) -> CasePayload:
        return await tolerance.override(info, input.number, input.reason, input.expected_version)
