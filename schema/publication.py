"""The publication of the lists in the schema (000: "于6月、12月…集中公布1次"): each
published version of the catalogue, and the input and payload of ``publishCatalogue``.
Every published version is public, like the catalogue itself."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from auth.policy import Resource, Target
from levels.city.models import CataloguePublication as PublicationRow
from schema.enums import MatterStatus, MatterType
from schema.payloads import UserError


@strawberry.type(description="A matter as a published version of the catalogue listed it")
class PublishedMatter:
    basic_code: str = strawberry.field(description="Its basic code")
    name: str = strawberry.field(description="Its name then")
    type: MatterType = strawberry.field(description="Its type then")
    department: str = strawberry.field(description="Its department then")
    legal_basis: str = strawberry.field(description="Its legal basis then")
    legal_time_limit_days: int = strawberry.field(
        description="Its statutory limit then, in working days"
    )
    status: MatterStatus = strawberry.field(description="Its status then")
    version: int = strawberry.field(description="The matter's own revision then")

    def authz_target(self) -> Target:
        return Target(Resource.CATALOGUE)

    @classmethod
    def from_record(cls, r: dict[str, Any]) -> PublishedMatter:
        return cls(
            basic_code=str(r["basicCode"]),
            name=str(r["name"]),
            type=MatterType(r["type"]),
            department=str(r["department"]),
            legal_basis=str(r["legalBasis"]),
            legal_time_limit_days=int(r["legalTimeLimitDays"]),
            status=MatterStatus(r["status"]),
            version=int(r["version"]),
        )


@strawberry.type(
    description="清单公布: one published version of the catalogue — June or December, or an "
    "urgent adjustment (紧急调整) with its reason — and the matters as published"
)
class CataloguePublication:
    version: int = strawberry.field(description="The version number, 1, 2, …")
    batch: str = strawberry.field(description="The month published: 2026-12")
    published_at: dt.datetime = strawberry.field(description="When it was published")
    urgent: bool = strawberry.field(description="An urgent adjustment outside the batch")
    reason: str | None = strawberry.field(description="Why (an urgent adjustment's)")
    matter_count: int = strawberry.field(description="How many matters it lists")
    row: strawberry.Private[PublicationRow]

    def authz_target(self) -> Target:
        return Target(Resource.CATALOGUE)

    @classmethod
    def from_row(cls, row: PublicationRow) -> CataloguePublication:
        return cls(
            version=row.version,
            batch=row.batch,
            published_at=row.published_at,
            urgent=row.urgent,
            reason=row.reason,
            matter_count=len(row.matters),
            row=row,
        )

    @strawberry.field(description="The catalogue as this version published it, by basic code")
    def matters(self) -> list[PublishedMatter]:
        return [PublishedMatter.from_record(r) for r in self.row.matters]


@strawberry.input(description="清单公布: publish the catalogue as its next version")
class PublishCatalogueInput:
    urgent: bool = strawberry.field(
        default=False,
        description="紧急调整: publish outside June and December (or again in a batch)",
    )
    reason: str | None = strawberry.field(
        default=None, description="Why: required for an urgent adjustment"
    )


@strawberry.type(description="The version just published, or why it was refused")
class CataloguePublicationPayload:
    publication: CataloguePublication | None = strawberry.field(
        default=None, description="The version just published"
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description=("Expected failures with their codes; empty when the mutation took effect"),
    )
