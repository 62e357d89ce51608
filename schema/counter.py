"""At the counter, the steps the seeds add around acceptance: an on-spot correction
(当场更正), and the second person's word on a rejection the window proposed (窗口无否决权).
Kept apart from ``schema/mutation.py``; the root Mutation includes them."""

from __future__ import annotations

import strawberry

from auth.permissions import IsAuthenticated
from levels.cases.machine import Step
from levels.cases.service import StepInput
from resolvers import cases
from schema.case_inputs import CaseActionInput, MaterialInput
from schema.cases import CasePayload
from schema.info import Info


@strawberry.input(description="当场更正: the materials corrected or completed at the counter")
class CorrectMaterialsInput:
    number: str = strawberry.field(description="The case number")
    materials: list[MaterialInput] = strawberry.field(
        description="Each material corrected or completed at the counter"
    )
    note: str | None = strawberry.field(default=None, description="A note kept with the step")
    expected_version: int | None = strawberry.field(
        default=None,
        description=(
            "The case's `version` as last read: if it changed meanwhile, "
            "`VERSION_CONFLICT` and nothing changes"
        ),
    )


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
