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
from levels.cases.models import CaseMaterial, CasePart
from levels.cases.referral import REFER_ACTION, passed_through
from levels.cases.service import china_date, clock_state
from levels.common.reads import ReadRow
from levels.evaluations.service import RESULT_STATUSES
from resolvers.globalid import encode_id
from schema.case_clocks import CaseProcedure, PreReview
from schema.case_language import CaseLanguageFields
from schema.clocks import (
    CaseClock,
    ReferralClock,
    StationNotice,
    SupervisionCardType,
)
from schema.divisions import Department, ServiceOrg, Window
from schema.enums import (
    ApplicantKind,
    CaseStatus,
    ClockState,
    Decision,
    DeliveryMethod,
    Level,
    MaterialSource,
    MaterialState,
    RejectionReason,
)
from schema.evaluations import EvaluationType
from schema.execution import READY_ONE, UNREADY
from schema.info import Info
from schema.licences import ELicenceType, LicenceView, licence_target
from schema.matters import MatterImplementation
from schema.notices import NoticeType
from schema.payloads import UserError
from schema.relay import Node
from schema.tolerance import ToleranceOfCase
from schema.village import VillageServiceFields


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


def clock_runs(row: CaseRow | ReadRow, today: dt.date) -> bool:
    """Whether a case's clock needs its node's calendar: it has a due date and runs."""
    return row.due_on is not None and clock_state(row, today) is not ClockState.STOPPED


def case_clock(row: CaseRow | ReadRow, today: dt.date, calendar: Any) -> CaseClock:
    """A case's clock on ``today``; ``calendar`` (its node's working days) when
    ``clock_runs``, for the working days left."""
    left = None
    if calendar is not None and row.due_on is not None:
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


@strawberry.type(description="申请材料 as handed in (or still owed) for one case")
class CaseMaterialType:
    name: str = strawberry.field(description="The material's name, as the guide gives it")
    source: MaterialSource | None = strawberry.field(description="FILE, PAPER or LICENCE")
    reference: str | None = strawberry.field(description="The file reference or licence identifier")
    state: MaterialState = strawberry.field(
        description="Handed in, missing, incorrect or owed (容缺)"
    )
    note: str | None = strawberry.field(description="What is wrong with it, or where it came from")

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
    implementation_code: str = strawberry.field(description="The part's implementation item")
    matter_name: str = strawberry.field(description="The part's matter")
    lead: bool = strawberry.field(description="The lead department decides the case last")
    decision: Decision | None = strawberry.field(
        description="The department's decision on its part"
    )
    reasons: str | None = strawberry.field(description="Why, when denied")
    decided_at: dt.datetime | None = strawberry.field(description="When the department decided")
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

    @strawberry.field(description="The department that decides the part")
    async def department(self, info: Info) -> Department | None:
        return await _department(info, self.department_id)


@strawberry.type(description="One step of a case, from the audit trail")
class CaseEvent:
    at: dt.datetime = strawberry.field(description="When it happened")
    action: str = strawberry.field(description="The step, e.g. SUBMIT, ACCEPT, DECIDE")
    before: CaseStatus | None = strawberry.field(description="The case's status before")
    after: CaseStatus | None = strawberry.field(description="The case's status after")
    actor_kind: str = strawberry.field(description="The kind of account that acted")
    role: str | None = strawberry.field(description="The post it acted in")
    channel: str | None = strawberry.field(description="The channel of its session")
    level: Level = strawberry.field(description="The store that recorded it")
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
    org_code: str = strawberry.field(description="The org that gave it")
    reviewer_name: str = strawberry.field(description="Who gave it")
    reviewer_role: str | None = strawberry.field(description="Their posts")
    opinion: str = strawberry.field(description="The opinion")
    at: dt.datetime = strawberry.field(description="When")

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
class CaseType(CaseLanguageFields, VillageServiceFields, ToleranceOfCase, Node):
    number: str = strawberry.field(
        description=(
            "`<receiving division code>-<yyyymmdd>-<sequence>`, kept all the way up and back"
        )
    )
    status: CaseStatus = strawberry.field(description="Where the case stands in its workflow")
    matter_name: str = strawberry.field(description="The matter's name")
    basic_code: str = strawberry.field(description="The matter's basic code")
    implementation_code: str = strawberry.field(description="The implementation item applied for")
    level: Level = strawberry.field(description="The level that holds the case now")
    applicant_kind: ApplicantKind = strawberry.field(description="A person or an enterprise")
    applicant_name: str = strawberry.field(description="Who applied")
    applicant_id_masked: str = strawberry.field(description="Masked: never the full number")
    channel: str = strawberry.field(
        description="How it arrived (follows from who handed it in, not from what was said)"
    )
    submitted_at: dt.datetime = strawberry.field(description="When it was handed in")
    decision: Decision | None = strawberry.field(description="APPROVED or DENIED, once decided")
    decision_reasons: str | None = strawberry.field(description="Why, when denied")
    remedy: str | None = strawberry.field(description="The right to review or litigation")
    rejection_reason: RejectionReason | None = strawberry.field(
        description="Why it was not accepted (不予受理)"
    )
    rejection_authority: str | None = strawberry.field(
        description="Where to apply instead (不属于本机关职权范围)"
    )
    rejection_pending: bool = strawberry.field(
        description="窗口无否决权: the window proposed a rejection (reason above); it waits for "
        "approveRejection by a second person"
    )
    supplement_deadline: dt.date | None = strawberry.field(
        description="The last day of the 补正 a notice asked for"
    )
    tolerance_deadline: dt.date | None = strawberry.field(
        description="The last day a 容缺 material may be handed in"
    )
    delivery_method: DeliveryMethod | None = strawberry.field(
        description="How the result was handed over"
    )
    delivery_reference: str | None = strawberry.field(
        description="The receipt or tracking number of the delivery"
    )
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
    # what a page of cases made for all its cases (``schema/ready_cases.py``): the
    # clock, answered without a resolver call; ``UNREADY`` until the page sets it
    ready_clock: strawberry.Private[Any] = UNREADY

    def authz_target(self) -> Target:
        return case_target(self.row)

    @classmethod
    def from_row(cls, row: CaseRow | ReadRow) -> CaseType:
        return cls(
            id=strawberry.ID(encode_id("Case", row.division_code, row.number)),
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

    @strawberry.field(
        description="The handling clock in working days", metadata={READY_ONE: "ready_clock"}
    )
    async def clock(self, info: Info) -> CaseClock:
        if self.ready_clock is not UNREADY:  # when a schema extension sees every field
            return self.ready_clock
        row = self.row
        today = china_date(info.context.clock.now())
        calendar = None
        if clock_runs(row, today):
            calendar = await info.context.loaders.calendar_by_level.load(
                (row.level, row.division_code)
            )
        return case_clock(row, today, calendar)

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

    @strawberry.field(description="转报时限 of a case received below its deciding level")
    def referral_clock(self, info: Info) -> ReferralClock | None:
        return ReferralClock.of(self.row, china_date(info.context.clock.now()))

    @strawberry.field(description="一次性告知 to the station that received it (referred cases)")
    def station_notices(self) -> list[StationNotice]:
        return [StationNotice.from_record(r) for r in self.row.station_notices or []]

    @strawberry.field(
        description="初审意见: every opinion given as the case was referred up, oldest first"
    )
    def review_opinions(self) -> list[ReviewOpinion]:
        return [ReviewOpinion.from_record(r) for r in self.row.review_opinions or []]

    @strawberry.field(description="The materials, handed in or owed")
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

    @strawberry.field(
        description="通知书: the written notices its steps produced, oldest first — at every "
        "level it passed through (a village station's 受理告知书, then the decider's)"
    )
    async def notices(self, info: Info) -> list[NoticeType]:
        loader = info.context.loaders.notices_by_case
        found = await loader.load_many([(lv, self.number) for lv in passed_through(self.row)])
        rows = sorted((r for rows in found for r in rows), key=lambda r: (r.issued_at, r.seq))
        return [NoticeType.from_row(r) for r in rows]

    @strawberry.field(description="The implementation item applied for (its guide and limits)")
    async def implementation(self, info: Info) -> MatterImplementation | None:
        row = await info.context.loaders.implementation_by_code.load(self.implementation_code)
        return MatterImplementation.from_row(row) if row else None

    @strawberry.field(description="Yellow and red cards of electronic supervision, in order")
    async def supervision_cards(self, info: Info) -> list[SupervisionCardType]:
        rows = await info.context.loaders.cards_by_case.load((self.row.level, self.number))
        return [SupervisionCardType.from_row(r) for r in rows]

    @strawberry.field(description="特殊环节: its special procedures, oldest first (one running)")
    async def special_procedures(self, info: Info) -> list[CaseProcedure]:
        rows = await info.context.loaders.procedures_by_case.load((self.row.level, self.number))
        return [CaseProcedure.from_row(r, china_date(info.context.clock.now())) for r in rows]

    @strawberry.field(description="网上预审 of an online application (null for any other)")
    async def pre_review(self, info: Info) -> PreReview | None:
        calendar = await info.context.loaders.calendar_by_level.load(
            (self.row.level, self.row.division_code)
        )
        return PreReview.of(self.row, china_date(info.context.clock.now()), calendar)

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


@strawberry.type(description="The case as it now stands, or why the step changed nothing")
class CasePayload:
    case: CaseType | None = strawberry.field(
        default=None, description="The case, or null when the step changed nothing"
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description=("Expected failures with their codes; empty when the mutation took effect"),
    )
    pre_review_overdue: bool | None = strawberry.field(
        default=None, description="Online applications not pre-reviewed within 2 working days"
    )
