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
    type: MatterType | None = None
    status: MatterStatus | None = None
    level: Level | None = strawberry.field(
        default=None, description="Implemented (published item) at this level"
    )
    division_code: str | None = strawberry.field(
        default=None, description="Implemented within this division (it and below)"
    )
    online_level: OnlineLevel | None = None
    max_visits: int | None = strawberry.field(default=None, description="At most this many visits")

    @property
    def needs_implementations(self) -> bool:
        return any(
            v is not None
            for v in (self.level, self.division_code, self.online_level, self.max_visits)
        )


@strawberry.input
class ImplementationFilter:
    basic_code: str | None = None
    keyword: str | None = strawberry.field(default=None, description="Part of the matter name")
    level: Level | None = None
    division_code: str | None = strawberry.field(
        default=None, description="Within this division (it and below)"
    )
    org_code: str | None = None
    handling_kind: HandlingKind | None = None
    online_level: OnlineLevel | None = None
    max_visits: int | None = None
    delegated_only: bool | None = None
    status: MatterStatus | None = strawberry.field(
        default=None, description="e.g. PUBLISHED; drafts and abolished items are listed too"
    )
