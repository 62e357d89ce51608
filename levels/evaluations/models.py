"""Tables of 好差评 and complaints. A rating, its rectification and a complaint about
a case live in the store that holds the case; a complaint about a window or a staff
member, in the store of that window's or staff member's org."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from levels.common.models import LevelBase
from levels.common.publicids import public_id_column
from levels.evaluations.enums import (
    AppealStatus,
    ComplaintStatus,
    RatingLevel,
    RectificationStatus,
    Satisfaction,
)


def _enum(cls: type) -> Enum:
    return Enum(cls, native_enum=False, length=32, validate_strings=True)


class Evaluation(LevelBase):
    """One rating (好差评) of a case on one channel, with who handled the case (so
    ratings roll up to staff, window, department, org and matter) and its appeal."""

    __tablename__ = "evaluations"
    __table_args__ = (
        UniqueConstraint("case_number", "channel"),
        Index("ix_evaluations_division_rated", "division_code", "rated_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # what crosses the API: unique across nodes (levels/common/publicids.py)
    public_id: Mapped[str] = public_id_column()
    case_number: Mapped[str] = mapped_column(String(27), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    rating: Mapped[RatingLevel] = mapped_column(_enum(RatingLevel))
    negative: Mapped[bool] = mapped_column(default=False)
    comment: Mapped[str | None] = mapped_column(Text)
    rated_by: Mapped[str] = mapped_column(String(32))
    rated_at: Mapped[dt.datetime]
    # who handled the case
    staff_id: Mapped[str | None] = mapped_column(String(32))
    department_id: Mapped[str | None] = mapped_column(String(15))
    window_id: Mapped[str | None] = mapped_column(String(15))
    org_code: Mapped[str] = mapped_column(String(18))
    division_code: Mapped[str] = mapped_column(String(12))
    basic_code: Mapped[str] = mapped_column(String(12))
    matter_name: Mapped[str] = mapped_column(String(128))
    # 申诉: the staff's appeal and the supervisor's decision
    appeal_status: Mapped[AppealStatus | None] = mapped_column(_enum(AppealStatus))
    appeal_reason: Mapped[str | None] = mapped_column(Text)
    appealed_by: Mapped[str | None] = mapped_column(String(32))
    appealed_at: Mapped[dt.datetime | None]
    appeal_decided_by: Mapped[str | None] = mapped_column(String(32))
    appeal_decided_at: Mapped[dt.datetime | None]
    appeal_note: Mapped[str | None] = mapped_column(Text)


class Rectification(LevelBase):
    """整改 of a bad rating: a deadline in working days, the callback (回访) to the
    applicant, and what was done."""

    __tablename__ = "rectifications"
    __table_args__ = (Index("ix_rectifications_due", "status", "due_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # what crosses the API: unique across nodes (levels/common/publicids.py)
    public_id: Mapped[str] = public_id_column()
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"), unique=True)
    case_number: Mapped[str] = mapped_column(String(27), index=True)
    applicant_id: Mapped[str] = mapped_column(String(32))  # who gave the 差评
    org_code: Mapped[str] = mapped_column(String(18))
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    status: Mapped[RectificationStatus] = mapped_column(_enum(RectificationStatus))
    opened_at: Mapped[dt.datetime]
    due_on: Mapped[dt.date] = mapped_column(Date)
    callback_by: Mapped[str | None] = mapped_column(String(32))
    callback_at: Mapped[dt.datetime | None]
    callback_note: Mapped[str | None] = mapped_column(Text)
    measures: Mapped[str | None] = mapped_column(Text)
    completed_by: Mapped[str | None] = mapped_column(String(32))
    completed_at: Mapped[dt.datetime | None]
    # when it was first found past its deadline: by the worker's pass, once
    overdue_at: Mapped[dt.datetime | None]


class Complaint(LevelBase):
    """投诉 against a case, a window or a staff member: handled by a deadline, then
    rated by the complainant."""

    __tablename__ = "complaints"
    __table_args__ = (
        Index("ix_complaints_division_filed", "division_code", "filed_at"),
        Index("ix_complaints_due", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # what crosses the API: unique across nodes (levels/common/publicids.py)
    public_id: Mapped[str] = public_id_column()
    case_number: Mapped[str | None] = mapped_column(String(27), index=True)
    window_id: Mapped[str | None] = mapped_column(String(15))
    staff_id: Mapped[str | None] = mapped_column(String(32))
    org_code: Mapped[str] = mapped_column(String(18))
    division_code: Mapped[str] = mapped_column(String(12))
    complainant_id: Mapped[str] = mapped_column(String(32), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[dt.datetime]
    due_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[ComplaintStatus] = mapped_column(_enum(ComplaintStatus))
    handled_by: Mapped[str | None] = mapped_column(String(32))
    handled_at: Mapped[dt.datetime | None]
    handling: Mapped[str | None] = mapped_column(Text)
    satisfaction: Mapped[Satisfaction | None] = mapped_column(_enum(Satisfaction))
    satisfaction_at: Mapped[dt.datetime | None]
    # when it was first found past its deadline: by the worker's pass, once
    overdue_at: Mapped[dt.datetime | None]
