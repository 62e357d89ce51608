"""特殊环节 (000 "出具特殊环节通知书…时限…原则上不超过事项承诺办理时限"; 004 "纳入电子监察系统
管理"): the mutations that begin and end a special procedure. Kept apart from
``schema/mutation.py``; the root Mutation includes them."""

from __future__ import annotations

import strawberry

from auth.permissions import IsAuthenticated
from levels.cases.machine import Step
from levels.cases.service import StepInput
from resolvers import cases
from schema.case_clocks import SpecialProcedureInput
from schema.case_inputs import CaseActionInput
from schema.cases import CasePayload
from schema.info import Info


@strawberry.type
class ProcedureMutation:
    @strawberry.mutation(
        description="特殊环节 (hearing, testing, tendering…) begins: the case clock stops and "
        "the procedure runs on its own limit (the guide's, at most the promised limit "
        "unless an exceptionReason is given)",
        permission_classes=[IsAuthenticated],
    )
    async def start_special_procedure(
        self, info: Info, input: SpecialProcedureInput
    ) -> CasePayload:
        given = StepInput(
            expected_version=input.expected_version,
            procedure=input.kind,
            procedure_basis=input.basis,
            procedure_limit_days=input.limit_days,
            exception_reason=input.exception_reason,
        )
        return await cases.take_step(info, input.number, Step.START_SPECIAL, given)

    @strawberry.mutation(
        description="The special procedure ends: the clock runs again, its time not counted "
        "(NO_PROCEDURE_RUNNING when none runs)",
        permission_classes=[IsAuthenticated],
    )
    async def finish_special_procedure(self, info: Info, input: CaseActionInput) -> CasePayload:
        return await cases.take_step(
            info,
            input.number,
            Step.FINISH_SPECIAL,
            StepInput(expected_version=input.expected_version, detail={"note": input.note}),
            input.licence_fields,
        )
