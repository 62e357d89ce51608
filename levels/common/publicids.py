"""Public keys of the rows a store numbers with an integer (ratings, rectifications,
complaints, queue tickets, appointment slots, appointments). The integer is unique in
one store only: two nodes both have a ticket 1, and a division moved to a node of its
own brings rows whose numbers the new store has already given. What crosses the API
is the public key instead: ``<division code>-<32 hex digits of a random UUID>``, unique
without coordination and saying which division — hence which node — holds the row.
The integer stays the row's primary key inside its store."""

from __future__ import annotations

import re
import uuid
from typing import Any, TypeVar

from sqlalchemy import String, select
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from levels.common.codes import level_of_division

PUBLIC_ID_LENGTH = 45
_PUBLIC_ID = re.compile(r"^(\d{12})-[0-9a-f]{32}$")

T = TypeVar("T")


def new_public_id(division_code: str) -> str:
    return f"{division_code}-{uuid.uuid4().hex}"


def is_public_id(value: str) -> bool:
    """Whether ``value`` has the shape of a public key of a division of ours."""
    match = _PUBLIC_ID.match(value)
    return match is not None and level_of_division(match.group(1)) is not None


def _default(context: DefaultExecutionContext) -> str:
    """The key of a row being inserted: its division code (a slot's, its window's)."""
    params = context.get_current_parameters()
    division = params.get("division_code") or str(params["window_id"])[:12]
    return new_public_id(division)


def public_id_column() -> Mapped[str]:
    """The ``public_id`` column: set on insert from the row's division, unique."""
    return mapped_column(String(PUBLIC_ID_LENGTH), unique=True, index=True, default=_default)


async def by_key(session: AsyncSession, model: type[T], key: str | int) -> T | None:
    """The row ``key`` names: its public key, or (an ID of the previous release) its
    integer id in this store."""
    if isinstance(key, int):
        return await session.get(model, key)
    column: Any = model.public_id  # type: ignore[attr-defined]
    return (await session.scalars(select(model).where(column == key))).one_or_none()
