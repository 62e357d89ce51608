"""The clocks a case carries besides its own, in the schema: its special procedures
(特殊环节, each with its kind, basis, limit, start and due day), the pre-review of an
online application (网上预审, and the message its applicant was told), and the cards of
electronic supervision issued against any of them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from levels.calendar.workdays import WorkCalendar
from levels.cases import prereview, procedures
from levels.cases.models import Case as CaseRow
from levels.cases.models import CaseSuspension
from levels.common.reads import ReadRow
from schema.enums import (
    ClockState,
    PreReviewResult,
    SpecialProcedureKind,
)
from schema.payloads import version_check


@strawberry.type(
    description="特殊环节: a procedure that stops the case clock and runs on a limit of its "
    "own (特殊环节通知书: kind, basis, limit)"
)
class CaseProcedure:
    kind: SpecialProcedureKind | None = strawberry.field(
        description="The kind of procedure (null for one recorded before kinds were kept)"
    )
    basis: str | None = strawberry.field(description="依据: the basis stated on its notice")
    limit_days: int | None = strawberry.field(description="Its own limit, in working days")
    started_on: dt.date = strawberry.field(description="The day it started")
    due_on: dt.date | None = strawberry.field(description="The last working day of its limit")
    ended_on: dt.date | None = strawberry.field(description="null while it runs")
    exception_reason: str | None = strawberry.field(
        description="Why its limit exceeds the matter's promised limit (an exception)"
    )
    overdue: bool = strawberry.field(description="It ran past its limit (red card)")
    state: ClockState = strawberry.field(
        description="Its own clock: GREEN, YELLOW, RED while it runs; STOPPED once it ended"
    )

    @classmethod
    def from_row(cls, row: CaseSuspension, today: dt.date) -> CaseProcedure:
        kind = row.procedure
        return cls(
            kind=SpecialProcedureKind(kind) if kind in SpecialProcedureKind.__members__ else None,
            basis=row.basis,
            limit_days=row.limit_days,
            started_on=row.started_on,
            due_on=row.due_on,
            ended_on=row.ended_on,
            exception_reason=row.exception_reason,
            overdue=row.overdue,
            state=procedures.procedure_state(row, today),
        )


@strawberry.type(description="A material the pre-review found missing or wrong")
class PreReviewItem:
    name: str = strawberry.field(description="The material's name")
    note: str | None = strawberry.field(description="What is missing or wrong with it")


@strawberry.type(
    description="网上预审: an online application's pre-review, told to the applicant within "
    "2 working days of receipt"
)
class PreReview:
    due_on: dt.date = strawberry.field(description="The last working day to tell the result")
    state: ClockState = strawberry.field(
        description="GREEN, YELLOW, RED while it waits; STOPPED once given or taken up"
    )
    overdue: bool = strawberry.field(description="Not given by its due day (red card)")
    result: PreReviewResult | None = strawberry.field(description="null until given")
    missing: list[PreReviewItem] = strawberry.field(
        description="INCOMPLETE: what is missing or wrong"
    )
    message: str | None = strawberry.field(description="What the applicant was told")
    given_at: dt.datetime | None = strawberry.field(description="When the result was told")

    @classmethod
    def of(cls, row: CaseRow | ReadRow, today: dt.date, calendar: WorkCalendar) -> PreReview | None:
        if row.prereview_due_on is None:
            return None
        listed: list[Any] = row.prereview_missing or []
        return cls(
            due_on=row.prereview_due_on,
            state=prereview.state(row, today, prereview.yellow_on(row, calendar)),
            overdue=row.prereview_overdue,
            result=row.prereview_result,
            missing=[PreReviewItem(name=str(m["name"]), note=m.get("note")) for m in listed],
            message=row.prereview_message,
            given_at=row.prereview_at,
        )


@strawberry.input(description="特殊环节: start a special procedure")
class SpecialProcedureInput:
    number: str = strawberry.field(description="The case number")
    kind: SpecialProcedureKind = strawberry.field(description="A kind the guide lists")
    basis: str | None = strawberry.field(
        default=None, description="依据 (the guide's when not given)"
    )
    limit_days: int | None = strawberry.field(
        default=None,
        description="Its limit in working days (the guide's when not given); longer than "
        "the matter's promised limit only with an exceptionReason",
    )
    exception_reason: str | None = strawberry.field(
        default=None, description="Why the limit must exceed the matter's promised limit"
    )
    expected_version: int | None = version_check()


@strawberry.input(description="A material the pre-review found missing or wrong")
class PreReviewMissingInput:
    name: str = strawberry.field(description="One of the case's materials")
    note: str | None = strawberry.field(default=None, description="What is missing or wrong")


@strawberry.input(description="网上预审: the result told to the applicant")
class RecordPreReviewInput:
    number: str = strawberry.field(description="The case number")
    result: PreReviewResult = strawberry.field(
        description="PASSED, or INCOMPLETE with what is missing"
    )
    missing: list[PreReviewMissingInput] = strawberry.field(
        default_factory=list, description="INCOMPLETE: every material missing or wrong"
    )
    expected_version: int | None = version_check()
