"""Case numbers: ``<receiving division code>-<yyyymmdd>-<sequence>``, e.g.
``140702101000-20261120-00001``. Unique without coordination — the division code leads,
and each org numbers its own cases per day in its own store — and readable: where and
when a case was received, and hence which node holds it."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from levels.cases.errors import CaseErrorCode
from levels.cases.models import CaseSequence
from levels.common.codes import DivisionCode, Field, field_path, level_of_division
from levels.common.errors import DomainError
from levels.common.ranges import within
from levels.common.sequences import next_value

_NUMBER = re.compile(r"^(\d{12})-(\d{8})-(\d{5})$")


@dataclass(frozen=True, slots=True)
class CaseNumber:
    value: str
    division: DivisionCode
    day: dt.date
    sequence: int

    def __str__(self) -> str:
        return self.value


def held_within(number: Any, division_code: Any, prefix: str) -> ColumnElement[bool]:
    """The cases held by the divisions under ``prefix``, as two key ranges. A case is
    held where it was received or above it (referrals go up the receiver's chain), so a
    case held under a division prefix was received, and numbered, under it too: the
    range on the number, the primary key lists are ordered by, makes a jurisdiction's
    first page an index seek, where the division code's range alone leaves the planner
    a choice between sorting the whole jurisdiction and walking every number."""
    return and_(within(division_code, prefix), within(number, prefix))


def format_case_number(division_code: str, day: dt.date, sequence: int) -> str:
    return f"{division_code}-{day:%Y%m%d}-{sequence:05d}"


def parse_case_number(value: str, *, field: Field = "number") -> CaseNumber:
    match = _NUMBER.match(value.strip()) if isinstance(value, str) else None
    level = level_of_division(match.group(1)) if match else None
    if match is None or level is None:
        raise DomainError(CaseErrorCode.INVALID_CASE_NUMBER, field=field_path(field))
    try:
        day = dt.datetime.strptime(match.group(2), "%Y%m%d").date()
    except ValueError:
        raise DomainError(CaseErrorCode.INVALID_CASE_NUMBER, field=field_path(field)) from None
    sequence = int(match.group(3))
    if sequence == 0:
        raise DomainError(CaseErrorCode.INVALID_CASE_NUMBER, field=field_path(field))
    return CaseNumber(match.group(0), DivisionCode(match.group(1), level), day, sequence)


async def next_case_number(division_code: str, day: dt.date, *, session: AsyncSession) -> str:
    """The next number of this org and day, inside the caller's transaction (the
    sequence row is locked until it commits)."""
    last = await next_value(session, CaseSequence, division_code=division_code, day=day)
    return format_case_number(division_code, day, last)


__all__ = ["CaseNumber", "format_case_number", "next_case_number", "parse_case_number"]
