"""A node's rows read by key (its entity lookups: one statement per entity type for a
whole batch of keys) and by key range (its ordered lists: ``key >= lo AND key < hi``
from ``levels.common.codes.key_range``, never ``LIKE``), as Core rows whose attributes
are the columns' names (``levels/common/reads.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from levels.cases.models import Case
from levels.city.service import matters_by_code
from levels.common import reads
from levels.common.codes import key_range
from levels.common.enums import MatterStatus
from levels.common.models import Division, MatterImplementation
from levels.common.reads import OneOf, ReadRow, rows, table
from levels.county.models import Delegation, DelegationTarget
from levels.licences.models import ELicence
from levels.node.case_filter import CaseConditions

__all__ = [
    "DelegationRow",
    "cases_by_number",
    "cases_of",
    "cases_under",
    "children_of",
    "delegations_by_id",
    "divisions_by_code",
    "implementations_by_code",
    "implementations_under",
    "licences_by_id",
    "matters_by_code",
    "orgs_by_code",
]

divisions_by_code = reads.divisions_by_code
orgs_by_code = reads.orgs_by_code
implementations_by_code = reads.implementations_by_code

_case = table(Case)
_licence = table(ELicence)
_delegation = table(Delegation)
_target = table(DelegationTarget)
_impl = table(MatterImplementation)
_division = table(Division)

_CASES_BY_NUMBER = select(_case).where(OneOf(_case.c.number, "numbers"))
_LICENCES_BY_ID = select(_licence).where(OneOf(_licence.c.id, "ids"))
# a delegation and the towns it names, in one statement (one row per town; one row
# with a null town when it goes to all towns)
_DELEGATIONS_BY_ID = (
    select(_delegation, _target.c.town_code)
    .select_from(_delegation.outerjoin(_target, _target.c.delegation_id == _delegation.c.id))
    .where(OneOf(_delegation.c.id, "ids"))
    .order_by(_delegation.c.id, _target.c.town_code)
)


async def cases_by_number(numbers: Sequence[str], *, session: AsyncSession) -> Sequence[ReadRow]:
    """The rows this store holds of these cases (a referred case has one in every
    store it passed through)."""
    return await rows(session, _CASES_BY_NUMBER, {"numbers": list(numbers)})


async def licences_by_id(ids: Sequence[str], *, session: AsyncSession) -> Sequence[ReadRow]:
    return await rows(session, _LICENCES_BY_ID, {"ids": list(ids)})


@dataclass(frozen=True)
class DelegationRow:
    """A delegation's row and the towns it names (empty: all towns of its county)."""

    row: ReadRow
    towns: tuple[str, ...]


async def delegations_by_id(ids: Sequence[str], *, session: AsyncSession) -> list[DelegationRow]:
    found: dict[str, tuple[ReadRow, list[str]]] = {}
    for row in await rows(session, _DELEGATIONS_BY_ID, {"ids": list(ids)}):
        _, towns = found.setdefault(row.id, (row, []))
        if row.town_code is not None:
            towns.append(row.town_code)
    return [DelegationRow(row, tuple(towns)) for row, towns in found.values()]


def _in_range(column: ColumnElement[str], prefix: str) -> ColumnElement[bool]:
    lo, hi = key_range(prefix)
    return column >= lo if hi is None else and_(column >= lo, column < hi)


async def children_of(
    parents: Sequence[tuple[str, str]], *, session: AsyncSession
) -> Sequence[ReadRow]:
    """The divisions this store holds directly below these ``(code, prefix)`` parents,
    in code order: a key range on the code under each parent's prefix (the primary
    key), with its parent code; one statement for the batch."""
    if not parents:
        return []
    c = _division.c
    stmt = (
        select(_division)
        .where(or_(*(and_(_in_range(c.code, p), c.parent_code == code) for code, p in parents)))
        .order_by(c.code)
    )
    return await rows(session, stmt)


_CASES_FROM = (
    select(_case)
    .where(_case.c.number >= bindparam("lo"), _case.c.number > bindparam("after"))
    .order_by(_case.c.number)
    .limit(bindparam("limit"))
)
_CASES_UNDER = _CASES_FROM.where(_case.c.number < bindparam("hi"))


async def cases_under(
    prefix: str,
    *,
    after: str | None,
    limit: int,
    session: AsyncSession,
    conditions: CaseConditions | None = None,
) -> Sequence[ReadRow]:
    """Cases this store holds whose number starts with ``prefix`` (received at or
    under that division) and that meet ``conditions``, in number order, after the
    number ``after``."""
    lo, hi = key_range(prefix)
    params = {"lo": lo, "after": after or "", "limit": limit}
    stmt = _CASES_FROM if hi is None else _CASES_UNDER  # a prefix of nines: no upper bound
    if hi is not None:
        params["hi"] = hi
    if conditions is not None:
        stmt = conditions.where(stmt)
    return await rows(session, stmt, params)


_CASES_OF = (
    select(_case)
    .where(
        or_(
            _case.c.applicant_id == bindparam("subject"),
            _case.c.submitted_by == bindparam("subject"),
        ),
        _case.c.number > bindparam("after"),
    )
    .order_by(_case.c.number)
    .limit(bindparam("limit"))
)


async def cases_of(
    subject: str,
    *,
    prefix: str | None,
    after: str | None,
    limit: int,
    session: AsyncSession,
    conditions: CaseConditions | None = None,
) -> Sequence[ReadRow]:
    """Cases this store holds of an account (its applications, and what it handed in
    for another: ``applicant_id`` or ``submitted_by``, both indexed), in number order,
    after the number ``after``; with ``prefix``, those received at or under that
    division (a key range on the number); with ``conditions``, those meeting them."""
    stmt = _CASES_OF
    if prefix is not None:
        stmt = stmt.where(_in_range(_case.c.number, prefix))
    if conditions is not None:
        stmt = conditions.where(stmt)
    params = {"subject": subject, "after": after or "", "limit": limit}
    return await rows(session, stmt, params)


async def implementations_under(
    prefixes: Sequence[str],
    *,
    after: tuple[str, str] | None,
    limit: int,
    session: AsyncSession,
) -> Sequence[ReadRow]:
    """The published implementation items of the orgs at or under these divisions'
    prefixes, ordered by (division code, implementation code), after ``after``."""
    c = _impl.c
    stmt = (
        select(_impl)
        .where(or_(*(_in_range(c.division_code, p) for p in prefixes)))
        .where(c.status == MatterStatus.PUBLISHED)
    )
    if after is not None:
        division, code = after
        stmt = stmt.where(
            or_(c.division_code > division, and_(c.division_code == division, c.code > code))
        )
    stmt = stmt.order_by(c.division_code, c.code).limit(limit)
    return await rows(session, stmt)
