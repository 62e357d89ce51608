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
strawberry.enum(ComplaintStatus, description="Whether a complaint is open or handled")
strawberry.enum(Satisfaction, description="Whether the complainant was satisfied with the handling")
strawberry.enum(RollupDimension, description="What ratings roll up to")


@strawberry.type(name="Rectification", description="整改 of a 差评: deadline, 回访, measures")
class RectificationType(Node):
    id: strawberry.ID = strawberry.field(description="The rectification's global ID")
    case_number: str = strawberry.field(description="The case whose 差评 opened it")
    status: RectificationStatus = strawberry.field(description="OPEN, COMPLETED or VOIDED")
    opened_at: dt.datetime = strawberry.field(description="When the 差评 opened it")
    due_on: dt.date = strawberry.field(description="In working days after the rating")
    callback_by: str | None = strawberry.field(description="Who called the applicant back")
    callback_at: dt.datetime | None = strawberry.field(description="When")
    callback_note: str | None = strawberry.field(description="What the applicant said (回访)")
    measures: str | None = strawberry.field(description="What was done")
    completed_at: dt.datetime | None = strawberry.field(description="When it was completed")
    _row: strawberry.Private[RectificationRow]

    @classmethod
    def from_row(cls, level: Level, row: RectificationRow) -> RectificationType:
        return cls(
            id=strawberry.ID(encode_id("Rectification", row.division_code, row.public_id)),
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
    id: strawberry.ID = strawberry.field(description="The rating's global ID")
    case_number: str = strawberry.field(description="The case rated")
    channel: str = strawberry.field(
        description="The channel it was given on (one rating per channel)"
    )
    rating: RatingLevel = strawberry.field(
        description="VERY_SATISFIED … VERY_DISSATISFIED (the last two are 差评)"
    )
    negative: bool = strawberry.field(description="差评: DISSATISFIED or VERY_DISSATISFIED")
    comment: str | None = strawberry.field(
        description="The applicant's comment (at most 500 characters)"
    )
    rated_at: dt.datetime = strawberry.field(description="When it was given")
    staff_id: str | None = strawberry.field(description="The staff member who handled it")
    department_id: str | None = strawberry.field(description="The department that handled the case")
    window_id: str | None = strawberry.field(
        description="The window that handed out (else received) the case"
    )
    org_code: str = strawberry.field(description="The org that holds the case")
    matter_code: str = strawberry.field(description="The matter's basic code")
    matter_name: str = strawberry.field(description="The matter's name")
    appeal_status: AppealStatus | None = strawberry.field(
        description="PENDING, UPHELD or DISMISSED, once appealed"
    )
    appeal_reason: str | None = strawberry.field(description="Why the staff appealed")
    appeal_note: str | None = strawberry.field(description="The supervisor's note on the appeal")
    _level: strawberry.Private[Level]
    _row: strawberry.Private[EvaluationRow]

    @classmethod
    def from_row(cls, level: Level, row: EvaluationRow) -> EvaluationType:
        return cls(
            id=strawberry.ID(encode_id("Evaluation", row.division_code, row.public_id)),
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
        row = await loader.load((self._level, self._row.division_code, self._row.id))
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
    id: strawberry.ID = strawberry.field(description="The complaint's global ID")
    case_number: str | None = strawberry.field(description="The case complained of, if any")
    window_id: str | None = strawberry.field(description="The window complained of, if any")
    staff_id: str | None = strawberry.field(
        description="The staff member complained of, if any (account id)"
    )
    org_code: str = strawberry.field(description="The org that handles it")
    division_code: str = strawberry.field(description="The org's division")
    channel: str = strawberry.field(description="Where it was filed")
    content: str = strawberry.field(description="What the complainant says")
    filed_at: dt.datetime = strawberry.field(description="When it was filed")
    due_on: dt.date = strawberry.field(description="The last working day to handle it")
    status: ComplaintStatus = strawberry.field(description="OPEN or HANDLED")
    handling: str | None = strawberry.field(description="How it was handled")
    handled_by: str | None = strawberry.field(description="Who handled it")
    handled_at: dt.datetime | None = strawberry.field(description="When it was handled")
    satisfaction: Satisfaction | None = strawberry.field(
        description="Whether the complainant was satisfied"
    )
    _row: strawberry.Private[ComplaintRow]

    @classmethod
    def from_row(cls, level: Level, row: ComplaintRow) -> ComplaintType:
        return cls(
            id=strawberry.ID(encode_id("Complaint", row.division_code, row.public_id)),
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
    total: int = strawberry.field(description="All ratings")
    very_satisfied: int = strawberry.field(description="非常满意")
    satisfied: int = strawberry.field(description="满意")
    basic: int = strawberry.field(description="基本满意")
    dissatisfied: int = strawberry.field(description="不满意 (差评)")
    very_dissatisfied: int = strawberry.field(description="非常不满意 (差评)")
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


@strawberry.input(description="好差评: the applicant rates a case with a result")
class RateCaseInput:
    case_number: str = strawberry.field(description="The case rated")
    rating: RatingLevel = strawberry.field(description="VERY_SATISFIED … VERY_DISSATISFIED")
    comment: str | None = strawberry.field(default=None, description="At most 500 characters")


@strawberry.input(description="回访: the callback of the applicant who gave a 差评")
class RecordCallbackInput:
    id: strawberry.ID = strawberry.field(description="The rectification")
    note: str = strawberry.field(description="What the applicant said")


@strawberry.input(description="整改完成: the measures taken after the callback")
class CompleteRectificationInput:
    id: strawberry.ID = strawberry.field(description="The rectification's global ID")
    measures: str = strawberry.field(description="What was done")


@strawberry.input(description="申诉: staff of the org appeal a 差评 they think unfair, once")
class AppealRatingInput:
    id: strawberry.ID = strawberry.field(description="The rating")
    reason: str = strawberry.field(description="Why the rating is unfair")


@strawberry.input(description="A supervisor's decision on an appeal of a rating")
class DecideAppealInput:
    id: strawberry.ID = strawberry.field(description="The rating")
    uphold: bool = strawberry.field(
        description="True: the rating was unfair and is left out; false: it stands"
    )
    note: str | None = strawberry.field(default=None, description="Required to dismiss")


@strawberry.input(description="投诉: against a case, a window or a staff member of one org")
class FileComplaintInput:
    content: str = strawberry.field(description="What the complaint is about")
    case_number: str | None = strawberry.field(
        default=None, description="The case complained of, if any"
    )
    window_id: strawberry.ID | None = strawberry.field(default=None, description="Global ID")
    staff_id: str | None = strawberry.field(default=None, description="As a rating names them")


@strawberry.input(description="How a complaint was handled")
class HandleComplaintInput:
    id: strawberry.ID = strawberry.field(description="The complaint's global ID")
    handling: str = strawberry.field(description="How it was handled")


@strawberry.input(description="The complainant says whether the handling satisfied them")
class RateComplaintHandlingInput:
    id: strawberry.ID = strawberry.field(description="The complaint's global ID")
    satisfaction: Satisfaction = strawberry.field(description="SATISFIED or DISSATISFIED")


@strawberry.input(description="Which ratings a roll-up counts")
class RatingRollupFilter:
    division_code: str | None = strawberry.field(
        default=None, description="A division and everything below it"
    )
    rated_from: dt.date | None = strawberry.field(
        default=None, description="Given on or after this day"
    )
    rated_to: dt.date | None = strawberry.field(
        default=None, description="Given on or before this day"
    )


@strawberry.input(description="Which rectifications to list")
class RectificationFilter:
    division_code: str | None = strawberry.field(
        default=None, description="A division and everything below it"
    )
    status: RectificationStatus | None = strawberry.field(
        default=None, description="Only in this status"
    )
    overdue: bool | None = strawberry.field(
        default=None, description="Found past its deadline (flagged by the worker's pass)"
    )


@strawberry.input(description="Which complaints to list")
class ComplaintFilter:
    division_code: str | None = strawberry.field(
        default=None, description="A division and everything below it"
    )
    status: ComplaintStatus | None = strawberry.field(
        default=None, description="Only in this status"
    )
    case_number: str | None = strawberry.field(default=None, description="Only about this case")
    overdue: bool | None = strawberry.field(
        default=None, description="Found past its deadline (flagged by the worker's pass)"
    )


@strawberry.type(description="The rating as it now stands, or why nothing changed")
class EvaluationPayload:
    evaluation: EvaluationType | None = strawberry.field(
        default=None, description="The rating, or null when nothing changed"
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description=("Expected failures with their codes; empty when the mutation took effect"),
    )


@strawberry.type(description="The rectification as it now stands, or why nothing changed")
class RectificationPayload:
    rectification: RectificationType | None = strawberry.field(
        default=None, description="The rectification, or null when nothing changed"
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description=("Expected failures with their codes; empty when the mutation took effect"),
    )


@strawberry.type(description="The complaint as it now stands, or why nothing changed")
class ComplaintPayload:
    complaint: ComplaintType | None = strawberry.field(
        default=None, description="The complaint, or null when nothing changed"
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description=("Expected failures with their codes; empty when the mutation took effect"),
    )
