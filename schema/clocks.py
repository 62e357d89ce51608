"""The clocks of a case in the schema — the handling clock, the referral deadline
(转报时限) — the cards they earn (电子监察), and the one-time notices to the station
that received a referred case (levels/cases/referral_rules.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from levels.cases import referral_clock
from levels.cases.models import Case as CaseRow
from levels.cases.models import SupervisionCard
from levels.common.reads import ReadRow
from schema.enums import CardClock, CardColor, ClockState


@strawberry.type(description="电子监察: a yellow (most of the limit used) or red (overdue) card")
class SupervisionCardType:
    color: CardColor = strawberry.field(description="YELLOW or RED")
    clock: CardClock = strawberry.field(
        description="The clock that earned it: the handling clock, or the referral deadline"
    )
    issued_at: dt.datetime = strawberry.field(description="When it was issued")
    due_on: dt.date = strawberry.field(description="The due date the card was issued against")

    @classmethod
    def from_row(cls, row: SupervisionCard) -> SupervisionCardType:
        return cls(color=row.color, clock=row.clock, issued_at=row.issued_at, due_on=row.due_on)


@strawberry.type(description="The handling clock, in working days (法定节假日 excluded)")
class CaseClock:
    state: ClockState = strawberry.field(
        description="GREEN, YELLOW from 80 % of the limit used, RED when overdue"
    )
    accepted_on: dt.date | None = strawberry.field(description="The day the clock started (受理)")
    due_on: dt.date | None = strawberry.field(description="Last working day of the promise")
    working_days_left: int | None = strawberry.field(
        description="Working days until the due date (negative: overdue); null when stopped"
    )
    promised_limit_days: int = strawberry.field(description="The promised limit, in working days")
    legal_limit_days: int = strawberry.field(description="The statutory limit, in working days")
    provisional: bool = strawberry.field(
        description="A year on the way has no imported holiday schedule yet (Mon–Fri used)"
    )
    deemed_accepted: bool = strawberry.field(
        description="Accepted because no notice came within 3 working days of receipt"
    )


@strawberry.type(
    description="转报时限: a case received below its deciding level reaches it by dueOn, "
    "counted in working days from receipt at the first level"
)
class ReferralClock:
    state: ClockState = strawberry.field(
        description="GREEN, YELLOW, RED while it waits below the deciding level; STOPPED "
        "once referred on (or closed)"
    )
    due_on: dt.date = strawberry.field(description="The last working day to reach the decider")

    @classmethod
    def of(cls, row: CaseRow | ReadRow, today: dt.date) -> ReferralClock | None:
        if row.referral_due_on is None:
            return None
        return cls(state=referral_clock.state(row, today), due_on=row.referral_due_on)


@strawberry.type(description="A material a station notice lists, and what is wrong with it")
class StationNoticeMaterial:
    name: str = strawberry.field(description="The material's name, as the guide lists it")
    note: str | None = strawberry.field(description="What is wrong with it, or what to bring")


@strawberry.type(
    description="一次性告知 to the station that received a referred case: what its file "
    "lacks, asked once by the deciding org; the station supplies it, the resident does "
    "not come again"
)
class StationNotice:
    station: str = strawberry.field(description="The division of the station asked")
    materials: list[StationNoticeMaterial] = strawberry.field(
        description="What the file lacks or has wrong"
    )
    issued_at: dt.datetime = strawberry.field(description="When the deciding org asked")
    org_code: str = strawberry.field(description="The deciding org that asked")
    supplemented_at: dt.datetime | None = strawberry.field(
        description="When the station supplied it; null while it waits"
    )
    resident_came_again: bool | None = strawberry.field(
        description="false once the station supplied it without the resident; null while it waits"
    )

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> StationNotice:
        done = record.get("supplementedAt")
        return cls(
            station=record["station"],
            materials=[
                StationNoticeMaterial(name=m["name"], note=m.get("note"))
                for m in record["materials"]
            ],
            issued_at=dt.datetime.fromisoformat(record["issuedAt"]),
            org_code=record["orgCode"],
            supplemented_at=dt.datetime.fromisoformat(done) if done else None,
            resident_came_again=record.get("residentCameAgain"),
        )
