"""Cases written straight into 榆次区's node store as the node's own desk would have
written them: copies of one of its demo cases under numbers of their own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.cases.models import Case
from levels.common.reads import table

# what a case has only once it is taken up or decided: not yet, on receipt
ON_RECEIPT = {
    "accepted_on",
    "deemed_accepted",
    "due_on",
    "yellow_on",
    "supplement_deadline",
    "rejection_reason",
    "rejection_authority",
    "rejection_proposed_by",
    "rejection_proposed_at",
    "decision",
    "decision_reasons",
    "remedy",
    "decided_at",
    "delivery_method",
    "delivery_reference",
    "delivered_at",
    "delivery_window_id",
    "closed_at",
    "referred_to_level",
}


async def copy_demo_case(session: AsyncSession, *where: Any, **given: Any) -> Case:
    """A copy of the first of 榆次区's own demo cases (not joint, and as ``where`` says)
    as it stood on receipt, at version 1, with the columns ``given``: added to
    ``session``, left for the caller to commit."""
    model = await session.scalar(
        select(Case)
        .where(Case.number.startswith("140702000000-"), Case.joint.is_(False), *where)
        .order_by(Case.number)
        .limit(1)
    )
    assert model is not None
    columns = {c.key: getattr(model, c.key) for c in table(Case).columns}
    kept = {key: value for key, value in columns.items() if key not in ON_RECEIPT}
    row = Case(**{**kept, "version": 1, **given})
    session.add(row)
    return row


async def unused_number(session: AsyncSession, prefix: str, made: Iterator[int]) -> str:
    """``prefix``-n for the first n of ``made`` that no case in ``session``'s store has
    yet: the stores are shared by the session's tests, and a test module imported by
    another under a second name counts from the start again."""
    for n in made:
        number = f"{prefix}-{n}"
        if await session.get(Case, number) is None:
            return number
    raise AssertionError(f"no number left after {prefix}")
