"""Filter inputs of the list queries."""

from __future__ import annotations

import strawberry

from schema.enums import HandlingKind, Level, MatterStatus, MatterType, OnlineLevel


@strawberry.input(
    description="Catalogue search; implementation fields match matters "
    "implemented that way somewhere in scope"
)
class MatterFilter:
    keyword: str | None = strawberry.field(default=None, description="Part of the matter name")
    type: MatterType | None = strawberry.field(
        default=None, description="Only matters of this type"
    )
    status: MatterStatus | None = strawberry.field(
        default=None, description="Only matters in this status"
    )
    level: Level | None = strawberry.field(
        default=None, description="Implemented (published item) at this level"
    )
    division_code: str | None = strawberry.field(
        default=None, description="Implemented within this division (it and below)"
    )
    online_level: OnlineLevel | None = strawberry.field(
        default=None, description="Only matters implemented at this online level somewhere in scope"
    )
    max_visits: int | None = strawberry.field(default=None, description="At most this many visits")

    @property
    def needs_implementations(self) -> bool:
        return any(
            v is not None
            for v in (self.level, self.division_code, self.online_level, self.max_visits)
        )


@strawberry.input(description="Which implementation items to list")
class ImplementationFilter:
    basic_code: str | None = strawberry.field(default=None, description="Only items of this matter")
    keyword: str | None = strawberry.field(default=None, description="Part of the matter name")
    level: Level | None = strawberry.field(default=None, description="Only items of this level")
    division_code: str | None = strawberry.field(
        default=None, description="Within this division (it and below)"
    )
    org_code: str | None = strawberry.field(default=None, description="Only items of this org")
    handling_kind: HandlingKind | None = strawberry.field(
        default=None, description="Only immediate (即办件) or promised (承诺件) items"
    )
    online_level: OnlineLevel | None = strawberry.field(
        default=None, description="Only items at this online level"
    )
    max_visits: int | None = strawberry.field(
        default=None, description="Only items promising at most this many visits"
    )
    delegated_only: bool | None = strawberry.field(
        default=None, description="Only towns' items delegated by their county"
    )
    status: MatterStatus | None = strawberry.field(
        default=None, description="e.g. PUBLISHED; drafts and abolished items are listed too"
    )
