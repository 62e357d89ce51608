"""The village station's service modes in the schema (000 即时办理、全程代办、陪同办理、
上门办理; 003 免费代办): what a submission says about them, the record on the case and
in the ledger (台账), and home visits (``recordHomeVisit``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from levels.village.models import FeeWaiver, HomeVisit, VillageService
from schema.enums import VillageServiceMode
from schema.info import Info
from schema.payloads import UserError

strawberry.enum(FeeWaiver, description="免费代办: why the resident was not charged")

WAIVER_TEXT = {
    FeeWaiver.DISABILITY_CERTIFICATE: "持有效残疾人证，免费代办",
    FeeWaiver.AGE: "年满{age}周岁，免费代办",
}


@strawberry.input(description="村级服务方式 of a case an agent hands in (代办)")
class VillageServiceInput:
    mode: VillageServiceMode | None = strawberry.field(
        default=None,
        description="The mode the case is handled in; default: the authorization's. Must be "
        "one the village's route offers",
    )
    accompanied_by: str | None = strawberry.field(
        default=None, description="陪同办理: who accompanied the resident (required then)"
    )
    fee_yuan: Decimal | None = strawberry.field(
        default=None,
        description="代办 fee asked, in yuan; refused (FEE_WAIVED) for a resident served free "
        "(a valid 残疾人证, or the stated age), and unless the applicant's ID number is given",
    )


@strawberry.input
class SubmissionExtras:
    """Fields of ``SubmitCaseInput`` kept apart from the counter's."""

    village_service: VillageServiceInput | None = strawberry.field(
        default=None, description="代办 at a village station: the mode, accompaniment and fee"
    )
    applicant_language: str | None = strawberry.field(
        default=None,
        description="The language the applicant reads (zh, bo …): messages for them follow it",
    )


@strawberry.type(description="How a village station served a case: mode, accompaniment, fee")
class VillageServiceType:
    mode: VillageServiceMode = strawberry.field(
        description="即时办理, 全程代办, 陪同办理 or 上门办理"
    )
    accompanied_by: str | None = strawberry.field(description="陪同办理: who accompanied")
    fee_yuan: Decimal = strawberry.field(description="The 代办 fee charged (0 when free)")
    free: bool = strawberry.field(description="No fee was charged")
    waiver: FeeWaiver | None = strawberry.field(
        description="免费代办: why the resident is never charged (null: not waived)"
    )
    waiver_note: str | None = strawberry.field(description="The reason, as the ledger shows it")
    recorded_at: dt.datetime = strawberry.field(description="When it was recorded")

    @classmethod
    def from_row(cls, row: VillageService, free_age: int) -> VillageServiceType:
        note = WAIVER_TEXT[row.fee_waiver].format(age=free_age) if row.fee_waiver else None
        return cls(
            mode=row.mode,
            accompanied_by=row.accompanied_by,
            fee_yuan=Decimal(row.fee_fen) / 100,
            free=row.fee_fen == 0,
            waiver=row.fee_waiver,
            waiver_note=note,
            recorded_at=row.recorded_at,
        )


@strawberry.type(description="上门办理: one visit to the resident for a case")
class HomeVisitType:
    visited_on: dt.date = strawberry.field(description="The day of the visit")
    staff: str = strawberry.field(description="Who went")
    place: str = strawberry.field(description="Where (the resident's address)")
    note: str | None = strawberry.field(description="Anything the staff noted")
    recorded_at: dt.datetime = strawberry.field(description="When it was recorded")

    @classmethod
    def from_row(cls, row: HomeVisit) -> HomeVisitType:
        return cls(
            visited_on=row.visited_on,
            staff=row.staff,
            place=row.place,
            note=row.note,
            recorded_at=row.recorded_at,
        )


async def service_of(info: Info, number: str) -> VillageServiceType | None:
    row = await info.context.loaders.village.service_by_case.load(number)
    if row is None:
        return None
    return VillageServiceType.from_row(row, info.context.settings.proxy_free_age)


async def visits_of(info: Info, number: str) -> list[HomeVisitType]:
    rows = await info.context.loaders.village.visits_by_case.load(number)
    return [HomeVisitType.from_row(r) for r in rows]


@strawberry.type
class VillageServiceFields:
    """Fields of a case (and of a ledger entry) about the village station's service."""

    @strawberry.field(
        description="村级服务方式: how the village station served the case it received (null: "
        "not received by a station)"
    )
    async def village_service(self, info: Info) -> VillageServiceType | None:
        return await service_of(info, self.number)  # type: ignore[attr-defined]

    @strawberry.field(description="上门办理: the visits made for the case, in day order")
    async def home_visits(self, info: Info) -> list[HomeVisitType]:
        return await visits_of(info, self.number)  # type: ignore[attr-defined]


@strawberry.input(description="上门办理: record a visit made for a case")
class RecordHomeVisitInput:
    case_number: str = strawberry.field(description="The case number")
    visited_on: dt.date = strawberry.field(description="The day of the visit (China date)")
    staff: str = strawberry.field(description="Who went (names)")
    place: str = strawberry.field(description="Where (the resident's address)")
    note: str | None = strawberry.field(default=None, description="Anything to note")


@strawberry.type(description="The visit recorded, or why it was refused")
class HomeVisitPayload:
    visit: HomeVisitType | None = strawberry.field(
        default=None, description="The visit as recorded"
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="Expected failures with their codes; empty when the mutation took effect",
    )
