"""The node's mutations that write its rows for the hub: a case step (``takeCaseStep``)
taken at the node that holds the case, by the rules of ``levels/`` in the node's own
transaction (``levels/node/steps.py``), the audit events of staff reads of its cases
(``recordCaseReads``, ``levels/node/read_audit.py``), a case received at the node of
its implementing org (``submitCase``, ``levels/node/intake.py``), next to the inbox
(``deliver``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from levels.cases.intake import ItemRead, Submission
from levels.cases.machine import Step
from levels.cases.models import Case as CaseRow
from levels.cases.service import Actor
from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from levels.licences.held import decode_held
from levels.licences.service import Issuing
from levels.node import intake, steps
from levels.node.read_audit import CaseRead, record_case_reads
from levels.node.scope import NodeScope
from schema.node.context import NodeContext
from schema.node.query import NodeMutation
from schema.node.types import NodeInfo, row_columns

strawberry.enum(Step, name="CaseStep", description="A step of a case (办件环节)")

# the arguments the node's writes share, each described once
CaseNumber = Annotated[str, strawberry.argument(description="The case number")]
HubNow = Annotated[dt.datetime, strawberry.argument(description="The hub's instant")]
SubmissionArg = Annotated[JSON, strawberry.argument(description="The submission")]
ApplicantLanguage = Annotated[
    str | None, strawberry.argument(description="The applicant's language")
]
HeldArg = Annotated[
    JSON | None,
    strawberry.argument(
        description="The applicant's licences as the hub read them in the city's library, "
        "with their issuers' statuses: holder, rows, at_issuer (none: this node's own "
        "library, if it keeps it)"
    ),
]


@strawberry.input(description="Who takes the step, as the audit trail records it")
class ActorInput:
    id: str = strawberry.field(description="The account (or SYSTEM)")
    kind: str = strawberry.field(description="The account's kind (STAFF, RESIDENT, …)")
    role: str | None = strawberry.field(default=None, description="Its roles, comma-separated")
    channel: str | None = strawberry.field(default=None, description="Where it acts from")
    org_code: str | None = strawberry.field(default=None, description="Its org")
    request_id: str | None = strawberry.field(default=None, description="The hub's request")
    department_id: str | None = strawberry.field(default=None, description="Its department")

    def actor(self) -> Actor:
        return Actor(
            id=self.id,
            kind=self.kind,
            role=self.role,
            channel=self.channel,
            org_code=self.org_code,
            request_id=self.request_id,
            department_id=self.department_id,
        )


@strawberry.input(description="One staff member's read of a case, to be audited")
class CaseReadInput:
    number: str = strawberry.field(description="The case number")
    actor: ActorInput = strawberry.field(description="Who read it")
    now: dt.datetime = strawberry.field(description="The hub's instant of the read")


@strawberry.type(description="Why a step was refused: a stable code, the input field")
class StepRefusal:
    code: str = strawberry.field(description="e.g. `VERSION_CONFLICT`, `INVALID_TRANSITION`")
    field: list[str] | None = strawberry.field(description="The input field it concerns")
    message: str = strawberry.field(description="For people, in the caller's language")
    detail: str | None = strawberry.field(description="What the rule named, if anything")


@strawberry.type(description="What became of a case step")
class CaseStepResult:
    columns: JSON | None = strawberry.field(
        description="The case as it now stands, every column (none: the step was refused "
        "and nothing changed)"
    )
    moved: bool = strawberry.field(
        description="A due timer moved the case first (kept even when the step was refused)"
    )
    error: StepRefusal | None = strawberry.field(description="Why the step was refused")


@strawberry.type(description="What became of a submission")
class SubmissionResult:
    columns: JSON | None = strawberry.field(
        description="The case as received, every column (none: refused, nothing written)"
    )
    error: StepRefusal | None = strawberry.field(description="Why it was refused")


def _refusal(error: DomainError | None, locale: str) -> StepRefusal | None:
    if error is None:
        return None
    return StepRefusal(
        code=error.code.value,
        field=error.field,
        message=error.localized(locale),
        detail=error.detail,
    )


def held_here(context: NodeContext, number: str, now: dt.datetime) -> None:
    """A change of case ``number`` is asked of this node: DIVISION_NOT_OWNED for a case
    received where it holds nothing (a case is held on its way up from the division
    that received it); BAD_USER_INPUT for an instant without its offset."""
    if not context.scope.on_the_way(number[:12], field="number"):
        raise DomainError(ErrorCode.DIVISION_NOT_OWNED, field=["number"], detail=number[:12])
    if now.tzinfo is None:
        raise DomainError(ErrorCode.BAD_USER_INPUT, field=["now"], detail="no offset")


def keeps_library(scope: NodeScope, implementation_code: str) -> bool:
    """The city's licence library is kept by the node holding the city level there."""
    org = implementation_code[:18]
    city = org[2:6].ljust(12, "0") if org[2:6].isdigit() else None
    return city is not None and scope.keeps(city, Level.CITY)


def decode_submission(submission: JSON, now: dt.datetime) -> Submission:
    """What the hub decided of a submission; BAD_USER_INPUT for an instant without its
    offset, or a submission that does not decode."""
    if now.tzinfo is None:
        raise DomainError(ErrorCode.BAD_USER_INPUT, field=["now"], detail="no offset")
    return intake.decode_submission(submission)


async def submitted(
    context: NodeContext,
    given: Submission,
    actor: ActorInput,
    now: dt.datetime,
    language: str | None,
    read: ItemRead | None = None,
    library: JSON | None = None,
) -> SubmissionResult:
    """收件 of ``given`` in this node's transaction, as the hub reads it (the
    applicant's licences ``library`` as the hub read them, when it sent them)."""
    outcome = await intake.submit_case(
        context.sessions,
        given,
        language=language,
        actor=actor.actor(),
        now=now,
        signer=context.licence_signer,
        keeps_library=keeps_library(context.scope, given.implementation_code),
        read=read,
        held=decode_held(library),
    )
    return SubmissionResult(
        columns=row_columns(CaseRow, outcome.case),
        error=_refusal(outcome.error, context.locale),
    )


def case_result(outcome: steps.StepOutcome, locale: str) -> CaseStepResult:
    """What became of a change of a case, as the hub reads it."""
    return CaseStepResult(
        columns=row_columns(CaseRow, outcome.case),
        moved=outcome.moved,
        error=_refusal(outcome.error, locale),
    )


@strawberry.type(name="Mutation", description="What a node is asked to do")
class NodeMutations(NodeMutation):
    @strawberry.mutation(
        description="Take one step of a case this node holds, in its own transaction: "
        "what its due timers would have done by `now` first, then the step and its audit "
        "event. Who may take it is the hub's check; `actor` is who does. "
        "DIVISION_NOT_OWNED for a case received where this node holds nothing"
    )
    async def take_case_step(
        self,
        info: NodeInfo,
        number: CaseNumber,
        step: Step,
        actor: ActorInput,
        now: HubNow,
        input: Annotated[
            JSON | None, strawberry.argument(description="The step's input (a StepInput)")
        ] = None,
        licence_fields: Annotated[
            JSON | None,
            strawberry.argument(description="The licence fields an approval issues with"),
        ] = None,
    ) -> CaseStepResult:
        context = info.context
        held_here(context, number, now)
        given = steps.decode_input(input or {})
        fields = steps.decode_fields(licence_fields)
        signer = context.licence_signer
        issuing = Issuing(signer, fields) if signer is not None else None
        outcome = await steps.take_case_step(
            context.sessions, number, step, given, actor=actor.actor(), now=now, issuing=issuing
        )
        return case_result(outcome, context.locale)

    @strawberry.mutation(
        description="Record staff reads of cases this node holds: each read's READ event "
        "in the chain of the division holding its case, committed before the answer (the "
        "hub answers a case only then). All or none: CASE_NOT_FOUND for a case not here, "
        "DIVISION_NOT_OWNED for one received where this node holds nothing. The answer is "
        "the number of events written"
    )
    async def record_case_reads(self, info: NodeInfo, reads: list[CaseReadInput]) -> int:
        context = info.context
        for i, read in enumerate(reads):
            where = ["reads", str(i), "number"]
            if not context.scope.on_the_way(read.number[:12], field=tuple(where)):
                raise DomainError(
                    ErrorCode.DIVISION_NOT_OWNED, field=where, detail=read.number[:12]
                )
            if read.now.tzinfo is None:
                raise DomainError(ErrorCode.BAD_USER_INPUT, field=["reads", str(i), "now"])
        await record_case_reads(
            context.sessions, [CaseRead(r.number, r.actor.actor(), r.now) for r in reads]
        )
        return len(reads)

    @strawberry.mutation(
        description="Receive a case for an implementation this node keeps (收件), in its "
        "own transaction: the case, its materials, parts, timers, notice and SUBMIT event. "
        "Who applies and who may submit are the hub's; `submission` is what it decided "
        "(JSON), `actor` who hands it in"
    )
    async def submit_case(
        self,
        info: NodeInfo,
        submission: SubmissionArg,
        actor: ActorInput,
        now: HubNow,
        applicant_language: ApplicantLanguage = None,
        library: HeldArg = None,
    ) -> SubmissionResult:
        context = info.context
        given = decode_submission(submission, now)
        if given.received_by is not None:  # received below the deciding org: receiveCase
            raise DomainError(ErrorCode.BAD_USER_INPUT, field=["submission"], detail="received_by")
        return await submitted(context, given, actor, now, applicant_language, library=library)
