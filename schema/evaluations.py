"""好差评 and 投诉 in the schema: ratings of a case and the rectification a bad one
opens, the roll-up of ratings for supervisors and auditors, and complaints."""

from __future__ import annotations

import datetime as dt

import strawberry

from auth.policy import Resource, Target
from levels.common.enums import Level
from levels.evaluations.enums import (
    AppealStatus,
    ComplaintStatus,
    RatingLevel,
    RectificationStatus,
    RollupDimension,
    Satisfaction,
)
from levels.evaluations.models import Complaint as ComplaintRow
from levels.evaluations.models import Evaluation as EvaluationRow
from levels.evaluations.models import Rectification as RectificationRow
from levels.evaluations.service import Tally
from resolvers.globalid import encode_id
from schema.info import Info
from schema.payloads import UserError
from schema.relay import Node

strawberry.enum(RatingLevel, description="好差评: 非常满意 … 非常不满意 (the last two are 差评)")
strawberry.enum(RectificationStatus, description="整改: open, done, or voided by an upheld appeal")
strawberry.enum(AppealStatus, description="申诉 of a rating: pending, upheld, dismissed")
strawberry.enum(ComplaintStatus)
strawberry.enum(Satisfaction)
strawberry.enum(RollupDimension, description="What ratings roll up to")


@strawberry.type(name="Rectification", description="整改 of a 差评: deadline, 回访, measures")
class RectificationType(Node):
    id: strawberry.ID
    case_number: str
    status: RectificationStatus
    opened_at: dt.datetime
    due_on: dt.date = strawberry.field(description="In working days after the rating")
    callback_by: str | None
    callback_at: dt.datetime | None
    callback_note: str | None = strawberry.field(description="What the applicant said (回访)")
    measures: str | None
    completed_at: dt.datetime | None
    _row: strawberry.Private[RectificationRow]

    @classmethod
    def from_row(cls, level: Level, row: RectificationRow) -> RectificationType:
        return cls(
            id=strawberry.ID(encode_id("Rectification", level, str(row.id))),
            case_number=row.case_number,
            status=row.status,
            opened_at=row.opened_at,
            due_on=row.due_on,
            callback_by=row.callback_by,
            callback_at=row.callback_at,
            callback_note=row.callback_note,
            measures=row.measures,
            completed_at=row.completed_at,
            overdue_at=row.overdue_at,
            _row=row,
        )

    overdue_at: dt.datetime | None = strawberry.field(
        description="When it was found past its deadline: by the worker's pass while "
        "open (once, with a RECTIFICATION_OVERDUE audit event), or on completion if late"
    )

    @strawberry.field(description="Found past its deadline (see overdueAt)")
    def overdue(self) -> bool:
        return self.overdue_at is not None

    def authz_target(self) -> Target:
        return Target(
            Resource.EVALUATION,
            division_code=self._row.division_code,
            owner=self._row.applicant_id,
            org_code=self._row.org_code,
        )


@strawberry.type(name="Evaluation", description="好差评 of a case on one channel")
class EvaluationType(Node):
    id: strawberry.ID
    case_number: str
    channel: str
    rating: RatingLevel
    negative: bool = strawberry.field(description="差评: DISSATISFIED or VERY_DISSATISFIED")
    comment: str | None
    rated_at: dt.datetime
    staff_id: str | None = strawberry.field(description="The staff member who handled it")
    department_id: str | None
    window_id: str | None
    org_code: str
    matter_code: str
    matter_name: str
    appeal_status: AppealStatus | None
    appeal_reason: str | None
    appeal_note: str | None
    _level: strawberry.Private[Level]
    _row: strawberry.Private[EvaluationRow]

    @classmethod
    def from_row(cls, level: Level, row: EvaluationRow) -> EvaluationType:
        return cls(
            id=strawberry.ID(encode_id("Evaluation", level, str(row.id))),
            case_number=row.case_number,
            channel=row.channel,
            rating=row.rating,
            negative=row.negative,
            comment=row.comment,
            rated_at=row.rated_at,
            staff_id=row.staff_id,
            department_id=row.department_id,
            window_id=row.window_id,
            org_code=row.org_code,
            matter_code=row.basic_code,
            matter_name=row.matter_name,
            appeal_status=row.appeal_status,
            appeal_reason=row.appeal_reason,
            appeal_note=row.appeal_note,
            _level=level,
            _row=row,
        )

    @strawberry.field(description="The rectification a 差评 opened")
    async def rectification(self, info: Info) -> RectificationType | None:
        loader = info.context.loaders.rectification_by_evaluation
        row = await loader.load((self._level, self._row.id))
        return RectificationType.from_row(self._level, row) if row else None

    def authz_target(self) -> Target:
        return Target(
            Resource.EVALUATION,
            division_code=self._row.division_code,
            owner=self._row.rated_by,
            org_code=self._row.org_code,
        )


@strawberry.type(name="Complaint", description="投诉 against a case, a window or a staff member")
class ComplaintType(Node):
    id: strawberry.ID
    case_number: str | None
    window_id: str | None
    staff_id: str | None
    org_code: str
    division_code: str
    channel: str
    content: str
    filed_at: dt.datetime
    due_on: dt.date
    status: ComplaintStatus
    handling: str | None
    handled_by: str | None
    handled_at: dt.datetime | None
    satisfaction: Satisfaction | None
    _row: strawberry.Private[ComplaintRow]

    @classmethod
    def from_row(cls, level: Level, row: ComplaintRow) -> ComplaintType:
        return cls(
            id=strawberry.ID(encode_id("Complaint", level, str(row.id))),
            case_number=row.case_number,
            window_id=row.window_id,
            staff_id=row.staff_id,
            org_code=row.org_code,
            division_code=row.division_code,
            channel=row.channel,
            content=row.content,
            filed_at=row.filed_at,
            due_on=row.due_on,
            status=row.status,
            handling=row.handling,
            handled_by=row.handled_by,
            handled_at=row.handled_at,
            satisfaction=row.satisfaction,
            overdue_at=row.overdue_at,
            _row=row,
        )

    overdue_at: dt.datetime | None = strawberry.field(
        description="When it was found past its deadline: by the worker's pass while "
        "open (once, with a COMPLAINT_OVERDUE audit event), or on handling if late"
    )

    @strawberry.field(description="Found past its deadline (see overdueAt)")
    def overdue(self) -> bool:
        return self.overdue_at is not None

    def authz_target(self) -> Target:
        return Target(
            Resource.COMPLAINT,
            division_code=self._row.division_code,
            owner=self._row.complainant_id,
            org_code=self._row.org_code,
        )


@strawberry.type(description="Ratings of one staff member, window, department, org or matter")
class RatingTally:
    key: str | None = strawberry.field(description="Account id, window, department, org, code")
    total: int
    very_satisfied: int
    satisfied: int
    basic: int
    dissatisfied: int
    very_dissatisfied: int
    negative: int = strawberry.field(description="差评")
    negative_rate: float = strawberry.field(description="差评 ÷ total, 4 decimals")

    @classmethod
    def of(cls, t: Tally) -> RatingTally:
        c = t.counts
        return cls(
            key=t.key,
            total=t.total,
            very_satisfied=c[RatingLevel.VERY_SATISFIED],
            satisfied=c[RatingLevel.SATISFIED],
            basic=c[RatingLevel.BASIC],
            dissatisfied=c[RatingLevel.DISSATISFIED],
            very_dissatisfied=c[RatingLevel.VERY_DISSATISFIED],
            negative=t.negative,
            negative_rate=t.negative_rate,
        )


@strawberry.input
class RateCaseInput:
    case_number: str
    rating: RatingLevel
    comment: str | None = strawberry.field(default=None, description="At most 500 characters")


@strawberry.input
class RecordCallbackInput:
    id: strawberry.ID = strawberry.field(description="The rectification")
    note: str = strawberry.field(description="What the applicant said")


@strawberry.input
class CompleteRectificationInput:
    id: strawberry.ID
    measures: str


@strawberry.input
class AppealRatingInput:
    id: strawberry.ID = strawberry.field(description="The rating")
    reason: str


@strawberry.input
class DecideAppealInput:
    id: strawberry.ID = strawberry.field(description="The rating")
    uphold: bool
    note: str | None = strawberry.field(default=None, description="Required to dismiss")


@strawberry.input
class FileComplaintInput:
    content: str
    case_number: str | None = None
    window_id: strawberry.ID | None = strawberry.field(default=None, description="Global ID")
    staff_id: str | None = strawberry.field(default=None, description="As a rating names them")


@strawberry.input
class HandleComplaintInput:
    id: strawberry.ID
    handling: str


@strawberry.input
class RateComplaintHandlingInput:
    id: strawberry.ID
    satisfaction: Satisfaction


@strawberry.input
class RatingRollupFilter:
    division_code: str | None = None
    rated_from: dt.date | None = None
    rated_to: dt.date | None = None


@strawberry.input
class RectificationFilter:
    division_code: str | None = None
    status: RectificationStatus | None = None
    overdue: bool | None = strawberry.field(
        default=None, description="Found past its deadline (flagged by the worker's pass)"
    )


@strawberry.input
class ComplaintFilter:
    division_code: str | None = None
    status: ComplaintStatus | None = None
    case_number: str | None = None
    overdue: bool | None = strawberry.field(
        default=None, description="Found past its deadline (flagged by the worker's pass)"
    )


@strawberry.type
class EvaluationPayload:
    evaluation: EvaluationType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RectificationPayload:
    rectification: RectificationType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ComplaintPayload:
    complaint: ComplaintType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
