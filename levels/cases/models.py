"""Tables of cases (办件). Every level store holds them: a case lives in the store of
the level that holds it now, and keeps its number wherever it goes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from levels.cases.enums import (
    ApplicantKind,
    CardClock,
    CardColor,
    CaseStatus,
    Decision,
    MaterialSource,
    MaterialState,
    PreReviewResult,
    RejectionReason,
    SuspensionKind,
    TimerKind,
    ToleranceConsequence,
)
from levels.common.enums import DeliveryMethod, HandlingKind, Level
from levels.common.models import LevelBase


def _enum(cls: type) -> Enum:
    return Enum(cls, native_enum=False, length=32, validate_strings=True)


class Case(LevelBase):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_holder", "org_code", "status"),
        Index("ix_cases_applicant", "applicant_id", "submitted_at"),
        Index("ix_cases_submitter", "submitted_by", "submitted_at"),
    )

    # <receiving division code>-<yyyymmdd>-<5-digit sequence of that org and day>
    number: Mapped[str] = mapped_column(String(27), primary_key=True)
    implementation_code: Mapped[str] = mapped_column(String(31))
    basic_code: Mapped[str] = mapped_column(String(12))
    matter_name: Mapped[str] = mapped_column(String(128))
    handling_kind: Mapped[HandlingKind] = mapped_column(_enum(HandlingKind))
    # where it is now
    level: Mapped[Level] = mapped_column(_enum(Level))
    org_code: Mapped[str] = mapped_column(String(18))
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    department_id: Mapped[str | None] = mapped_column(String(15))
    # who applies, and who handed it in
    applicant_kind: Mapped[ApplicantKind] = mapped_column(_enum(ApplicantKind))
    applicant_id: Mapped[str] = mapped_column(String(32))
    applicant_name: Mapped[str] = mapped_column(String(100))
    applicant_id_masked: Mapped[str] = mapped_column(String(18))
    submitted_by: Mapped[str] = mapped_column(String(32))
    # 代办: the resident's authorization of the village agent who handed it in, and
    # the phone number the village ledger lists
    proxy_authorization_id: Mapped[str | None] = mapped_column(String(32))
    applicant_phone: Mapped[str | None] = mapped_column(String(20))
    # the language the applicant reads (zh, bo …); null: Chinese
    applicant_language: Mapped[str | None] = mapped_column(String(8))
    # 转报: where the case was received (its number names that division), and, while
    # another level holds it, that level (status REFERRED here)
    received_level: Mapped[Level | None] = mapped_column(_enum(Level))
    referred_to_level: Mapped[Level | None] = mapped_column(_enum(Level))
    # 初审意见: every opinion given when the case was referred up, oldest first, as it
    # travels with the case — [{"level", "orgCode", "reviewerId", "reviewerName",
    # "role", "opinion", "at"}] (null: none given)
    review_opinions: Mapped[list[Any] | None] = mapped_column(JSON)
    # 转报时限 (000 "在上级行政机关规定期限内完成代办转报"): received below the deciding
    # level, the case reaches it by this working day, counted from receipt at the first
    # level; YELLOW from ``referral_yellow_on`` (levels/cases/referral_clock.py)
    referral_due_on: Mapped[dt.date | None] = mapped_column(Date)
    referral_yellow_on: Mapped[dt.date | None] = mapped_column(Date)
    # 一次性告知 to the station that received it, for what its file lacked (the resident
    # is not asked again): [{"materials": [{"name", "note"}], "issuedAt", "issuedBy",
    # "orgCode", "supplementedAt", "supplementedBy", "residentCameAgain"}]
    station_notices: Mapped[list[Any] | None] = mapped_column(JSON)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[CaseStatus] = mapped_column(_enum(CaseStatus), index=True)
    # clocks, in working days
    legal_limit_days: Mapped[int] = mapped_column(Integer)
    promised_limit_days: Mapped[int] = mapped_column(Integer)
    submitted_at: Mapped[dt.datetime]
    accepted_on: Mapped[dt.date | None] = mapped_column(Date)
    deemed_accepted: Mapped[bool] = mapped_column(default=False)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    # from this day on the clock is YELLOW (a configurable share of the limit used)
    yellow_on: Mapped[dt.date | None] = mapped_column(Date)
    clock_provisional: Mapped[bool] = mapped_column(default=False)
    supplement_deadline: Mapped[dt.date | None] = mapped_column(Date)
    tolerance_deadline: Mapped[dt.date | None] = mapped_column(Date)  # 容缺承诺
    # outcomes
    rejection_reason: Mapped[RejectionReason | None] = mapped_column(_enum(RejectionReason))
    rejection_authority: Mapped[str | None] = mapped_column(String(128))
    # 窗口无否决权: a rejection proposed at the window, waiting for a second person's
    # approval (reason and authority above are the proposal's until it takes effect)
    rejection_proposed_by: Mapped[str | None] = mapped_column(String(32))
    rejection_proposed_at: Mapped[dt.datetime | None]
    decision: Mapped[Decision | None] = mapped_column(_enum(Decision))
    decision_reasons: Mapped[str | None] = mapped_column(Text)
    remedy: Mapped[str | None] = mapped_column(Text)  # right to review or litigation
    decided_at: Mapped[dt.datetime | None]
    delivery_method: Mapped[DeliveryMethod | None] = mapped_column(_enum(DeliveryMethod))
    delivery_reference: Mapped[str | None] = mapped_column(String(64))
    delivered_at: Mapped[dt.datetime | None]
    # 归档: a delivered case not archived within 1 working day of delivery is flagged
    # by its ARCHIVE_DUE timer (and stays flagged once archived late)
    archive_overdue: Mapped[bool] = mapped_column(default=False)
    # 一窗受理: received at a comprehensive window, pushed to the department, which must
    # accept within 2 working days (``push_due_on``), or the case is flagged
    received_window_id: Mapped[str | None] = mapped_column(String(15))
    push_due_on: Mapped[dt.date | None] = mapped_column(Date)
    push_overdue: Mapped[bool] = mapped_column(default=False)
    delivery_window_id: Mapped[str | None] = mapped_column(String(15))
    # 网上预审 (an application that arrived online): the result is told to the applicant
    # by ``prereview_due_on``; late, the PRE_REVIEW_DUE timer flags it (and cards it)
    prereview_due_on: Mapped[dt.date | None] = mapped_column(Date)
    prereview_overdue: Mapped[bool] = mapped_column(default=False)
    prereview_result: Mapped[PreReviewResult | None] = mapped_column(_enum(PreReviewResult))
    prereview_missing: Mapped[list[Any] | None] = mapped_column(JSON)  # [{"name", "note"}]
    prereview_message: Mapped[str | None] = mapped_column(Text)  # as told to the applicant
    prereview_by: Mapped[str | None] = mapped_column(String(32))
    prereview_at: Mapped[dt.datetime | None]
    # 联办: several implementations in one case, each a ``CasePart``; the case's own
    # implementation is the lead's
    joint: Mapped[bool] = mapped_column(default=False)
    closed_at: Mapped[dt.datetime | None]
    # optimistic concurrency: every transition moves it by one, and an update that
    # finds another version changes nothing (SQLAlchemy's version counter)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[dt.datetime]

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class CaseMaterial(LevelBase):
    __tablename__ = "case_materials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_number: Mapped[str] = mapped_column(ForeignKey("cases.number"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    source: Mapped[MaterialSource | None] = mapped_column(_enum(MaterialSource))
    reference: Mapped[str | None] = mapped_column(String(256))
    state: Mapped[MaterialState] = mapped_column(_enum(MaterialState))
    note: Mapped[str | None] = mapped_column(Text)


class CasePart(LevelBase):
    """One implementation of a jointly handled case (联办): its department records its
    decision; the lead department (the case's own implementation) decides last."""

    __tablename__ = "case_parts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_number: Mapped[str] = mapped_column(ForeignKey("cases.number"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    implementation_code: Mapped[str] = mapped_column(String(31))
    basic_code: Mapped[str] = mapped_column(String(12))
    matter_name: Mapped[str] = mapped_column(String(128))
    department_id: Mapped[str | None] = mapped_column(String(15))
    lead: Mapped[bool] = mapped_column(default=False)
    legal_limit_days: Mapped[int] = mapped_column(Integer)
    promised_limit_days: Mapped[int] = mapped_column(Integer)
    decision: Mapped[Decision | None] = mapped_column(_enum(Decision))
    reasons: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[dt.datetime | None]


class CaseSuspension(LevelBase):
    """A stretch of time the clock does not count: waiting for 补正, or a special
    procedure (特殊环节) with its own limit."""

    __tablename__ = "case_suspensions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_number: Mapped[str] = mapped_column(ForeignKey("cases.number"), index=True)
    kind: Mapped[SuspensionKind] = mapped_column(_enum(SuspensionKind))
    procedure: Mapped[str | None] = mapped_column(String(32))
    limit_days: Mapped[int | None] = mapped_column(Integer)
    started_on: Mapped[dt.date] = mapped_column(Date)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    # a special procedure: the basis stated on its notice (特殊环节通知书), its last
    # working day and the day its yellow card falls due, why its limit may exceed the
    # matter's promised limit, and whether it ran past its limit (flagged by a timer)
    basis: Mapped[str | None] = mapped_column(String(256))
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    yellow_on: Mapped[dt.date | None] = mapped_column(Date)
    exception_reason: Mapped[str | None] = mapped_column(Text)
    overdue: Mapped[bool] = mapped_column(default=False)


class SupervisionCard(LevelBase):
    """A yellow or red card of electronic supervision (电子监察), issued once per case
    and colour by the timer worker when the clock turns YELLOW or RED."""

    __tablename__ = "supervision_cards"
    # once per clock and colour: the case's own clock, each special procedure's (its
    # suspension's id in ``clock_ref``), the online pre-review's
    __table_args__ = (
        UniqueConstraint(
            "case_number", "clock", "clock_ref", "color", name="uq_supervision_cards_clock"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_number: Mapped[str] = mapped_column(ForeignKey("cases.number"), index=True)
    color: Mapped[CardColor] = mapped_column(_enum(CardColor))
    # the clock that earned it: the handling clock, or the referral deadline (转报时限)
    clock: Mapped[CardClock] = mapped_column(_enum(CardClock), default=CardClock.HANDLING)
    clock_ref: Mapped[int] = mapped_column(Integer, default=0)
    issued_at: Mapped[dt.datetime]
    due_on: Mapped[dt.date] = mapped_column(Date)
    org_code: Mapped[str] = mapped_column(String(18), index=True)
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    department_id: Mapped[str | None] = mapped_column(String(15))


class CaseTimer(LevelBase):
    """A deadline as a row: the timer worker fires rows that are due, once."""

    __tablename__ = "case_timers"
    __table_args__ = (Index("ix_case_timers_due", "fired_at", "cancelled_at", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_number: Mapped[str] = mapped_column(ForeignKey("cases.number"), index=True)
    kind: Mapped[TimerKind] = mapped_column(_enum(TimerKind))
    due_at: Mapped[dt.datetime]
    fired_at: Mapped[dt.datetime | None]
    cancelled_at: Mapped[dt.datetime | None]


class CaseTolerance(LevelBase):
    """容缺承诺 (001 "告知申请人在规定时间内将容缺材料补齐补正，说明逾期的后果，同时要求
    申请人填写容缺受理承诺"): what the applicant promised at receipt — which materials,
    by when, and the consequence stated to them — and what became of the promise."""

    __tablename__ = "case_tolerances"

    case_number: Mapped[str] = mapped_column(ForeignKey("cases.number"), primary_key=True)
    materials: Mapped[list[Any]] = mapped_column(JSON)  # the names promised
    due_on: Mapped[dt.date] = mapped_column(Date)
    consequence: Mapped[ToleranceConsequence] = mapped_column(_enum(ToleranceConsequence))
    statement: Mapped[str] = mapped_column(Text)  # the consequence as stated, in words
    committed_at: Mapped[dt.datetime]
    handed_in_at: Mapped[dt.datetime | None]  # the last promised material came
    noticed_at: Mapped[dt.datetime | None]  # the applicant was told the date passed
    lapsed_at: Mapped[dt.datetime | None]  # the consequence took effect
    # a director decides without the material: who, why, when (audited)
    overridden_by: Mapped[str | None] = mapped_column(String(32))
    override_reason: Mapped[str | None] = mapped_column(Text)
    overridden_at: Mapped[dt.datetime | None]


class CaseSequence(LevelBase):
    """The last case number given by one org on one day, in this node only: numbers
    need no coordination between nodes because the division code leads them."""

    __tablename__ = "case_sequences"

    division_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)
