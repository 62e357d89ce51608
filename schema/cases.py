"""Cases (办件) in the schema: the case, its materials, clock and timeline; the inputs
and payload of the lifecycle mutations."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from auth.policy import Action, Resource, Target, allows
from levels.audit.chain import in_time_order
from levels.audit.models import AuditEvent
from levels.cases import rejection
from levels.cases.models import Case as CaseRow
from levels.cases.models import CaseMaterial, CasePart, SupervisionCard
from levels.cases.referral import REFER_ACTION
from levels.cases.service import china_date, clock_state
from levels.common.reads import ReadRow
from levels.evaluations.service import RESULT_STATUSES
from resolvers.globalid import encode_id
from schema.divisions import Department, ServiceOrg, Window
from schema.enums import (
    ApplicantKind,
    CardColor,
    CaseStatus,
    Channel,
    ClockState,
    Decision,
    DeliveryMethod,
    Level,
    MaterialSource,
    MaterialState,
    RejectionReason,
    SpecialProcedureKind,
)
from schema.evaluations import EvaluationType
from schema.info import Info
from schema.licences import ELicenceType, LicenceFieldInput, LicenceView, licence_target
from schema.matters import MatterImplementation
from schema.payloads import UserError
from schema.relay import Node

LEVELS_BY_DEPTH = sorted(Level, key=lambda lv: lv.depth)


def passed_through(row: CaseRow | ReadRow) -> list[Level]:
    """The levels a case has been held at: from where it was received up to where it
    is now (a level it skipped holds no events of it and costs one lookup)."""
    here = row.level
    start = row.received_level or here
    return [lv for lv in LEVELS_BY_DEPTH if here.depth <= lv.depth <= start.depth]


def case_target(row: CaseRow | ReadRow) -> Target:
    return Target(
        Resource.CASE,
        division_code=row.division_code,
        owner=row.applicant_id,
        org_code=row.org_code,
        submitter=row.submitted_by,
        # a case number leads with the code of the division that received it
        received_at=row.number.split("-", 1)[0],
    )


@strawberry.type(description="申请材料 as handed in (or still owed) for one case")
class CaseMaterialType:
    name: str
    source: MaterialSource | None
    reference: str | None
    state: MaterialState
    note: str | None

    @classmethod
    def from_row(cls, row: CaseMaterial) -> CaseMaterialType:
        return cls(
            name=row.name,
            source=row.source,
            reference=row.reference,
            state=row.state,
            note=row.note,
        )

    @strawberry.field(
        description="The e-licence filled in from the library (source LICENCE), as the "
        "library holds it: whoever may read the case sees what it was filled with"
    )
    async def licence(self, info: Info) -> LicenceView | None:
        if self.source is not MaterialSource.LICENCE or not self.reference:
            return None
        row = await info.context.loaders.licence_by_id.load(self.reference)
        return LicenceView.from_row(row) if row is not None else None


@strawberry.type(description="联办: one implementation of a jointly handled case and its decision")
class CasePartType:
    implementation_code: str
    matter_name: str
    lead: bool = strawberry.field(description="The lead department decides the case last")
    decision: Decision | None
    reasons: str | None
    decided_at: dt.datetime | None
    level: strawberry.Private[Level]
    department_id: strawberry.Private[str | None]

    @classmethod
    def from_row(cls, row: CasePart, level: Level) -> CasePartType:
        return cls(
            implementation_code=row.implementation_code,
            matter_name=row.matter_name,
            lead=row.lead,
            decision=row.decision,
            reasons=row.reasons,
            decided_at=row.decided_at,
            level=level,
            department_id=row.department_id,
        )

    @strawberry.field
    async def department(self, info: Info) -> Department | None:
        return await _department(info, self.department_id)


@strawberry.type(description="电子监察: a yellow (most of the limit used) or red (overdue) card")
class SupervisionCardType:
    color: CardColor
    issued_at: dt.datetime
    due_on: dt.date = strawberry.field(description="The due date the card was issued against")

    @classmethod
    def from_row(cls, row: SupervisionCard) -> SupervisionCardType:
        return cls(color=row.color, issued_at=row.issued_at, due_on=row.due_on)


@strawberry.type(description="The handling clock, in working days (法定节假日 excluded)")
class CaseClock:
    state: ClockState
    accepted_on: dt.date | None
    due_on: dt.date | None = strawberry.field(description="Last working day of the promise")
    working_days_left: int | None = strawberry.field(
        description="Working days until the due date (negative: overdue); null when stopped"
    )
    promised_limit_days: int
    legal_limit_days: int
    provisional: bool = strawberry.field(
        description="A year on the way has no imported holiday schedule yet (Mon–Fri used)"
    )
    deemed_accepted: bool = strawberry.field(
        description="Accepted because no notice came within 3 working days of receipt"
    )


@strawberry.type(description="One step of a case, from the audit trail")
class CaseEvent:
    at: dt.datetime
    action: str
    before: CaseStatus | None
    after: CaseStatus | None
    actor_kind: str
    role: str | None
    channel: str | None
    level: Level
    opinion: str | None = strawberry.field(
        description="The opinion given with the step (初审意见 when a town refers it up)"
    )

    @classmethod
    def from_row(cls, row: AuditEvent) -> CaseEvent:
        opinion = row.detail.get("opinion") if row.action == REFER_ACTION else None
        return cls(
            at=row.at,
            action=row.action,
            before=CaseStatus(row.before) if row.before else None,
            after=CaseStatus(row.after) if row.after else None,
            actor_kind=row.actor_kind,
            role=row.role,
            channel=row.channel,
            level=Level(row.level),
            opinion=str(opinion) if opinion else None,
        )


@strawberry.type(
    description="初审意见: an opinion given by the level that referred the case up, as "
    "the deciders read it"
)
class ReviewOpinion:
    level: Level = strawberry.field(description="Where it was given")
    org_code: str
    reviewer_name: str = strawberry.field(description="Who gave it")
    reviewer_role: str | None = strawberry.field(description="Their posts")
    opinion: str
    at: dt.datetime

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ReviewOpinion:
        return cls(
            level=Level(record["level"]),
            org_code=str(record["orgCode"]),
            reviewer_name=str(record.get("reviewerName") or ""),
            reviewer_role=record.get("role"),
            opinion=str(record["opinion"]),
            at=dt.datetime.fromisoformat(record["at"]),
        )

    @strawberry.field(description="The service org that gave it")
    async def org(self, info: Info) -> ServiceOrg | None:
        row = await info.context.loaders.service_org_by_code.load((self.level, self.org_code))
        return ServiceOrg.from_row(row) if row else None


@strawberry.type(name="Case", description="办件: one application and where it stands")
class CaseType(Node):
    number: str
    status: CaseStatus
    matter_name: str
    basic_code: str
    implementation_code: str
    level: Level = strawberry.field(description="The level that holds the case now")
    applicant_kind: ApplicantKind
    applicant_name: str
    applicant_id_masked: str = strawberry.field(description="Masked: never the full number")
    channel: str
    submitted_at: dt.datetime
    decision: Decision | None
    decision_reasons: str | None
    remedy: str | None = strawberry.field(description="The right to review or litigation")
    rejection_reason: RejectionReason | None
    rejection_authority: str | None = strawberry.field(
        description="Where to apply instead (不属于本机关职权范围)"
    )
    rejection_pending: bool = strawberry.field(
        description="窗口无否决权: the window proposed a rejection (reason above); it waits for "
        "approveRejection by a second person"
    )
    supplement_deadline: dt.date | None
    tolerance_deadline: dt.date | None
    delivery_method: DeliveryMethod | None
    delivery_reference: str | None
    joint: bool = strawberry.field(description="联办: several departments' items in one case")
    received_level: Level | None = strawberry.field(
        description="Where it was received (its number names that division)"
    )
    push_due_on: dt.date | None = strawberry.field(
        description="一窗受理: the department takes the case up by this day"
    )
    push_overdue: bool = strawberry.field(
        description="The department did not take the pushed case up in time (flagged)"
    )
    archive_overdue: bool = strawberry.field(
        description="归档: not archived within 1 working day of delivery (flagged)"
    )
    version: int = strawberry.field(description="Pass as expectedVersion to act on this view")
    row: strawberry.Private[CaseRow | ReadRow]

    def authz_target(self) -> Target:
        return case_target(self.row)

    @classmethod
    def from_row(cls, row: CaseRow | ReadRow) -> CaseType:
        return cls(
            id=strawberry.ID(encode_id("Case", row.level, row.number)),
            number=row.number,
            status=row.status,
            matter_name=row.matter_name,
            basic_code=row.basic_code,
            implementation_code=row.implementation_code,
            level=row.level,
            applicant_kind=row.applicant_kind,
            applicant_name=row.applicant_name,
            applicant_id_masked=row.applicant_id_masked,
            channel=row.channel,
            submitted_at=row.submitted_at,
            decision=row.decision,
            decision_reasons=row.decision_reasons,
            remedy=row.remedy,
            rejection_reason=row.rejection_reason,
            rejection_authority=row.rejection_authority,
            rejection_pending=rejection.pending(row),
            supplement_deadline=row.supplement_deadline,
            tolerance_deadline=row.tolerance_deadline,
            delivery_method=row.delivery_method,
            delivery_reference=row.delivery_reference,
            joint=row.joint,
            received_level=row.received_level,
            push_due_on=row.push_due_on,
            push_overdue=row.push_overdue,
            archive_overdue=row.archive_overdue,
            version=row.version,
            row=row,
        )

    @strawberry.field
    async def clock(self, info: Info) -> CaseClock:
        row = self.row
        today = china_date(info.context.clock.now())
        left = None
        if row.due_on is not None and clock_state(row, today) is not ClockState.STOPPED:
            calendar = await info.context.loaders.calendar_by_level.load(row.level)
            if row.due_on >= today:
                left = calendar.working_days_between(today, row.due_on)
            else:
                left = -calendar.working_days_between(row.due_on, today)
        return CaseClock(
            state=clock_state(row, today),
            accepted_on=row.accepted_on,
            due_on=row.due_on,
            working_days_left=left,
            promised_limit_days=row.promised_limit_days,
            legal_limit_days=row.legal_limit_days,
            provisional=row.clock_provisional,
            deemed_accepted=row.deemed_accepted,
        )

    @strawberry.field(
        description="The e-licences its approval issued (电子证照), from the store that decided it"
    )
    async def licences(self, info: Info) -> list[ELicenceType]:
        rows = await info.context.loaders.licences_by_case.load((self.row.level, self.number))
        viewer = info.context.viewer
        # an agent who handed the case in reads the case, not the resident's licences
        return [
            ELicenceType.from_row(r) for r in rows if allows(viewer, Action.READ, licence_target(r))
        ]

    @strawberry.field(
        description="初审意见: every opinion given as the case was referred up, oldest first"
    )
    def review_opinions(self) -> list[ReviewOpinion]:
        return [ReviewOpinion.from_record(r) for r in self.row.review_opinions or []]

    @strawberry.field
    async def materials(self, info: Info) -> list[CaseMaterialType]:
        rows = await info.context.loaders.materials_by_case.load((self.row.level, self.number))
        return [CaseMaterialType.from_row(r) for r in rows]

    @strawberry.field(
        description="Every step so far, oldest first — at every level it passed through"
    )
    async def timeline(self, info: Info) -> list[CaseEvent]:
        loader = info.context.loaders.events_by_case
        levels = passed_through(self.row)
        found = await loader.load_many([(level, self.number) for level in levels])
        return [CaseEvent.from_row(r) for r in in_time_order(r for rows in found for r in rows)]

    @strawberry.field
    async def implementation(self, info: Info) -> MatterImplementation | None:
        row = await info.context.loaders.implementation_by_code.load(self.implementation_code)
        return MatterImplementation.from_row(row) if row else None

    @strawberry.field(description="Yellow and red cards of electronic supervision, in order")
    async def supervision_cards(self, info: Info) -> list[SupervisionCardType]:
        rows = await info.context.loaders.cards_by_case.load((self.row.level, self.number))
        return [SupervisionCardType.from_row(r) for r in rows]

    @strawberry.field(description="联办: each department's item and decision, lead first")
    async def parts(self, info: Info) -> list[CasePartType]:
        if not self.row.joint:
            return []
        rows = await info.context.loaders.parts_by_case.load((self.row.level, self.number))
        return [CasePartType.from_row(r, self.row.level) for r in rows]

    @strawberry.field(description="The department handling the case (the lead's, 联办)")
    async def department(self, info: Info) -> Department | None:
        return await _department(info, self.row.department_id)

    @strawberry.field(description="Where it was received: a comprehensive window pushes it on")
    async def received_at_window(self, info: Info) -> Window | None:
        return await _window(info, self.row.received_window_id)

    @strawberry.field(description="The output window that handed the result over")
    async def delivered_at_window(self, info: Info) -> Window | None:
        return await _window(info, self.row.delivery_window_id)

    @strawberry.field(description="The service org that holds the case now")
    async def org(self, info: Info) -> ServiceOrg | None:
        row = await info.context.loaders.service_org_by_code.load((self.level, self.row.org_code))
        return ServiceOrg.from_row(row) if row else None

    @strawberry.field(
        description="好差评 of the case, oldest first: those the viewer may read (the "
        "applicant's own; staff of its org; supervisors and auditors of the jurisdiction)"
    )
    async def ratings(self, info: Info) -> list[EvaluationType]:
        rows = await info.context.loaders.evaluations_by_case.load((self.row.level, self.number))
        found = [EvaluationType.from_row(self.row.level, r) for r in rows]
        viewer = info.context.viewer
        return [e for e in found if allows(viewer, Action.READ, e.authz_target())]

    @strawberry.field(
        description="Whether the signed-in viewer may rate the case now (rateCase): its "
        "applicant, once it has a result, not yet rated on this session's channel"
    )
    async def rateable(self, info: Info) -> bool:
        viewer, row = info.context.viewer, self.row
        if row.status not in RESULT_STATUSES or viewer.channel is None:
            return False
        target = Target(
            Resource.EVALUATION,
            division_code=row.division_code,
            owner=row.applicant_id,
            org_code=row.org_code,
        )
        if viewer.subject != row.applicant_id or not allows(viewer, Action.RATE_CASE, target):
            return False
        rows = await info.context.loaders.evaluations_by_case.load((row.level, self.number))
        return all(r.channel != viewer.channel.value for r in rows)


async def _department(info: Info, key: str | None) -> Department | None:
    row = await info.context.loaders.department_by_id.load(key) if key else None
    return Department.from_row(row) if row else None


async def _window(info: Info, key: str | None) -> Window | None:
    row = await info.context.loaders.window_by_id.load(key) if key else None
    return Window.from_row(row) if row else None


@strawberry.type
class CasePayload:
    case: CaseType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class MaterialInput:
    name: str = strawberry.field(description="As the service guide names it")
    source: MaterialSource
    reference: str | None = strawberry.field(
        default=None, description="File id or e-licence identifier (not needed for PAPER)"
    )


@strawberry.input
class SubmitCaseInput:
    implementation_code: str
    channel: Channel = strawberry.field(
        description="How the case arrives; it follows from the session: an applicant's is "
        "the channel signed in on, staff's COUNTER (or MAIL for a posted application), an "
        "agent's PROXY — any other value is not stored"
    )
    materials: list[MaterialInput]
    applicant_id_number: str | None = strawberry.field(
        default=None,
        description="At a counter: the resident applying (their account is found by it)",
    )
    tolerance_deadline: dt.date | None = strawberry.field(
        default=None, description="容缺承诺: tolerable materials follow by this date"
    )
    joint_implementation_codes: list[str] | None = strawberry.field(
        default=None,
        description="联办: more items of other departments of the same org, handled in this "
        "one case; implementationCode's department leads",
    )
    window_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Staff: the window received at; a comprehensive one (一窗受理) pushes "
        "the case to its department",
    )
    on_behalf_of: str | None = strawberry.field(
        default=None,
        description="The credit code of the enterprise applying: one the signed-in person "
        "represents, or at a counter the enterprise itself",
    )
    proxy_authorization_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="代办: a village agent applies for the resident who gave this "
        "authorization (channel PROXY); required of agents",
    )


@strawberry.input
class CaseActionInput:
    number: str
    expected_version: int | None = None
    note: str | None = None
    licence_fields: list[LicenceFieldInput] | None = strawberry.field(
        default=None,
        description="completeCase of a matter that issues an e-licence: its fields "
        "(the rest are filled from the case); refused for any other step",
    )


@strawberry.input
class MissingMaterialInput:
    name: str
    note: str | None = None


@strawberry.input
class SupplementNoticeInput:
    number: str
    materials: list[MissingMaterialInput] = strawberry.field(
        description="Incorrect materials, with what is wrong; missing ones are added"
    )
    deadline_days: int | None = strawberry.field(
        default=None, description="Working days to supplement (default 5)"
    )
    expected_version: int | None = None


@strawberry.input
class SupplementInput:
    number: str
    materials: list[MaterialInput]
    expected_version: int | None = None


@strawberry.input
class RejectCaseInput:
    number: str
    reason: RejectionReason
    authority: str | None = strawberry.field(
        default=None, description="NOT_OUR_JURISDICTION: the authority to apply to"
    )
    expected_version: int | None = None


@strawberry.input
class SpecialProcedureInput:
    number: str
    kind: SpecialProcedureKind
    expected_version: int | None = None


@strawberry.input
class DecideCaseInput:
    number: str
    decision: Decision
    reasons: str | None = None
    expected_version: int | None = None
    licence_fields: list[LicenceFieldInput] | None = strawberry.field(
        default=None,
        description="An approval that issues an e-licence: its fields (the rest are "
        "filled from the case); refused for a denial",
    )


@strawberry.input
class DeliverCaseInput:
    number: str
    method: DeliveryMethod
    reference: str | None = strawberry.field(
        default=None, description="PICKUP: the receipt number; MAIL: the tracking number"
    )
    window_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The output window (综合出件); needed for a pickup of a case received at a "
        "comprehensive window",
    )
    expected_version: int | None = None


@strawberry.input
class PartDecisionInput:
    number: str
    implementation_code: str = strawberry.field(description="The department's item")
    decision: Decision
    reasons: str | None = None
    expected_version: int | None = None


@strawberry.input
class ReferCaseInput:
    number: str
    opinion: str | None = strawberry.field(
        default=None, description="初审意见: required of a town that reviews first"
    )
    expected_version: int | None = None


@strawberry.input
class CaseFilter:
    status: CaseStatus | None = None
    level: Level | None = None
    division_code: str | None = strawberry.field(
        default=None,
        description="Cases of this division and everything below it (e.g. a town and its "
        "villages, across their stores), within what the viewer may see",
    )
    org_code: str | None = None
    clock_state: ClockState | None = None
    submitted_from: dt.date | None = None
    submitted_to: dt.date | None = None
    accepted_from: dt.date | None = None
    accepted_to: dt.date | None = None
    applicant: str | None = strawberry.field(
        default=None, description="The applicant's resident ID number or credit code"
    )
    push_overdue: bool | None = strawberry.field(
        default=None, description="Cases pushed from a comprehensive window and not taken up"
    )
    archive_overdue: bool | None = strawberry.field(
        default=None, description="Cases not archived within 1 working day of delivery"
    )
