"""容缺承诺 on the case: what the applicant promised at receipt (which materials, by
when, the consequence stated), and what became of it — handed in, told the date had
passed, the consequence taken, or a director's override with its reason."""

from __future__ import annotations

import datetime as dt

import strawberry

from levels.cases.enums import ToleranceConsequence
from levels.cases.models import Case as CaseRow
from levels.cases.models import CaseTolerance
from levels.common.reads import ReadRow
from schema.info import Info


@strawberry.type(description="容缺承诺: a tolerated material follows by a date, or else")
class ToleranceCommitment:
    materials: list[str] = strawberry.field(description="The materials promised")
    outstanding: list[str] = strawberry.field(description="Those not handed in yet")
    due_on: dt.date = strawberry.field(description="The day they are promised by")
    consequence: ToleranceConsequence = strawberry.field(
        description="What follows if the day passes without them"
    )
    statement: str = strawberry.field(description="The commitment as the applicant signed it")
    committed_at: dt.datetime = strawberry.field(
        description="When the commitment was signed (at receipt)"
    )
    handed_in_at: dt.datetime | None = strawberry.field(description="When the last one came")
    noticed_at: dt.datetime | None = strawberry.field(
        description="When the applicant was told the day had passed"
    )
    lapsed_at: dt.datetime | None = strawberry.field(description="When the consequence took effect")
    overridden_by: str | None = strawberry.field(
        description="The director who let the case be decided without it"
    )
    override_reason: str | None = strawberry.field(description="The director's reason")
    overridden_at: dt.datetime | None = strawberry.field(
        description="When the director overrode it"
    )

    @classmethod
    def from_row(cls, row: CaseTolerance, outstanding: list[str]) -> ToleranceCommitment:
        return cls(
            materials=list(row.materials),
            outstanding=outstanding,
            due_on=row.due_on,
            consequence=row.consequence,
            statement=row.statement,
            committed_at=row.committed_at,
            handed_in_at=row.handed_in_at,
            noticed_at=row.noticed_at,
            lapsed_at=row.lapsed_at,
            overridden_by=row.overridden_by,
            override_reason=row.override_reason,
            overridden_at=row.overridden_at,
        )


@strawberry.type
class ToleranceOfCase:
    """The case's ``tolerance`` field (its type includes this one)."""

    row: strawberry.Private[CaseRow | ReadRow]

    @strawberry.field(description="容缺承诺: what was promised, by when, what became of it")
    async def tolerance(self, info: Info) -> ToleranceCommitment | None:
        key = (self.row.level, self.row.number)
        row = await info.context.loaders.tolerance_by_case.load(key)
        if row is None:
            return None
        materials = await info.context.loaders.materials_by_case.load(key)
        waiting = {m.name for m in materials if m.state.value == "TOLERATED"}
        return ToleranceCommitment.from_row(row, [n for n in row.materials if n in waiting])
