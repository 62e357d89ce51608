"""Read paths of the lists, as Core rows: the hub's list queries (a page of items, its
materials, a chain's routes, a page of cases) read whole rows only to copy their
columns into the API's types, so ORM entities (identity map, instance state, change
tracking) are pure cost there. These functions return rows whose attributes are the
columns' names — the same names the mapped classes use, so the schema's ``from_row``
reads either: a SQLAlchemy ``Row`` made a named tuple (``ColumnsRow``) once per row,
since a ``Row`` looks an attribute up through its ``__getattr__`` (about 1.4 µs a
column on this machine; a page of 50 items and their 187 materials reads ~2,600),
where a named tuple's attribute is a C descriptor (~0.15 µs).

Statements are built once per module (``bindparam`` for every value), and a list of
keys is ``OneOf``: ``IN (…)`` on SQLite, ``= ANY($1)`` on PostgreSQL, so one SQL text
(one prepared statement per pooled connection) serves every list length instead of one
text, one compilation and one prepare per length.

On PostgreSQL a request's reads run on ``ReadSession``s (autocommit, one per call to a
node): a Core read there takes a pooled connection for its statement alone and gives
it back, as ``engine.connect()`` does, without the ORM session's transaction
bookkeeping (its ``connection()``, autobegin and ``close()`` were ~15 % of the CPU of a
page of cases); the session's ORM methods work as on any session."""

from __future__ import annotations

import asyncio
from collections import namedtuple
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Boolean, Table, any_, bindparam, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from levels.common.enums import MatterStatus
from levels.common.models import (
    Division,
    ImplementationMaterial,
    MatterImplementation,
    ServiceOrg,
)

ReadRow = Row[Any]


class ColumnsRow:
    """A Core row as a named tuple of its columns (``rows``): attributes, indexes,
    ``_fields``, ``_asdict()`` and ``_mapping`` as on a ``Row``."""

    __slots__ = ()
    _fields: tuple[str, ...]

    @property
    def _mapping(self) -> dict[str, Any]:
        return dict(zip(self._fields, cast(tuple[Any, ...], self), strict=True))


# per tuple of column names: its row class, None when a named tuple cannot have them
# (a name twice, a keyword, a leading underscore: such rows stay ``Row``s)
_row_types: dict[tuple[str, ...], type | None] = {}
_ROW_TYPES_KEPT = 512


def _row_type(keys: tuple[str, ...]) -> type | None:
    if keys in _row_types:
        return _row_types[keys]
    try:
        base = namedtuple("ReadRow", keys)  # type: ignore[misc]
    except ValueError:
        found: type | None = None
    else:
        found = type("ReadRow", (base, ColumnsRow), {"__slots__": ()})
    if len(_row_types) < _ROW_TYPES_KEPT:
        _row_types[keys] = found
    return found


class OneOf(ColumnElement[bool]):
    """``column`` is one of the list bound as ``name`` at execution."""

    type = Boolean()
    inherit_cache = True
    _traverse_internals = [  # noqa: RUF012 (SQLAlchemy's own declaration)
        ("column", InternalTraversal.dp_clauseelement),
        ("name", InternalTraversal.dp_string),
    ]

    def __init__(self, column: ColumnElement[Any], name: str) -> None:
        self.column = column
        self.name = name


@compiles(OneOf)
def _one_of(element: OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    expanding: Any = bindparam(element.name, expanding=True)
    return str(compiler.process(element.column.in_(expanding), **kw))


@compiles(OneOf, "postgresql")
def _one_of_array(element: OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    array = bindparam(element.name, type_=postgresql.ARRAY(element.column.type))
    return str(compiler.process(element.column == any_(array), **kw))


def table(model: type[Any]) -> Table:
    found: Table = model.__table__
    return found


class ReadSession(AsyncSession):
    """A session for reads in autocommit mode (each statement its own snapshot, no
    BEGIN or ROLLBACK): ``rows`` runs a Core read on a connection of its own while the
    session holds none, and ``close`` has nothing to do while the ORM has not been
    used (no transaction, no objects)."""

    @property
    def untouched(self) -> bool:
        sync = self.sync_session
        return not sync.in_transaction() and not sync.identity_map

    async def close(self) -> None:
        if not self.untouched:
            await super().close()


async def rows(
    session: AsyncSession, stmt: Executable, params: Mapping[str, Any] | None = None
) -> Sequence[ReadRow]:
    """``stmt``'s rows on the session's connection (Core: no ORM entities), each a
    named tuple of its columns (``ColumnsRow``); on a ``ReadSession`` that holds no
    connection, on a pooled connection for this statement alone (a request still uses
    one connection per node at a time: its calls to a node are taken in turn)."""
    values = dict(params or {})
    if type(session) is ReadSession and not session.sync_session.in_transaction():
        engine: Any = session.bind
        conn = await engine.connect()
        try:
            result = await conn.execute(stmt, values)
            keys = tuple(result.keys())
            found = result.all()
        except BaseException:
            # a failed or cancelled read still gives its connection back
            await asyncio.shield(conn.close())
            raise
        await conn.close()
    else:
        conn = await session.connection()
        result = await conn.execute(stmt, values)
        keys = tuple(result.keys())
        found = result.all()
    row_type = _row_type(keys)
    if row_type is None:
        return found
    new = tuple.__new__
    return cast(list[ReadRow], [new(row_type, row) for row in found])


_division = table(Division)
_org = table(ServiceOrg)
_impl = table(MatterImplementation)
_material = table(ImplementationMaterial)

_DIVISIONS_BY_CODE = select(_division).where(OneOf(_division.c.code, "codes"))
_ORGS_BY_DIVISION = select(_org).where(OneOf(_org.c.division_code, "codes"))
_ORGS_BY_CODE = select(_org).where(OneOf(_org.c.code, "codes"))
_IMPLS_BY_CODE = select(_impl).where(OneOf(_impl.c.code, "codes"))
_IMPLS_BY_DIVISION = (
    select(_impl)
    .where(OneOf(_impl.c.division_code, "codes"))
    .where(_impl.c.status == MatterStatus.PUBLISHED)
    .order_by(_impl.c.basic_code)
)
_IMPLS_BY_BASIC_CODE = (
    select(_impl)
    .where(OneOf(_impl.c.basic_code, "codes"))
    .order_by(_impl.c.division_code, _impl.c.basic_code)
)
_MATERIALS_BY_IMPL = (
    select(_material)
    .where(OneOf(_material.c.implementation_code, "codes"))
    .order_by(_material.c.implementation_code, _material.c.position)
)


async def divisions_by_code(codes: Sequence[str], *, session: AsyncSession) -> Sequence[ReadRow]:
    return await rows(session, _DIVISIONS_BY_CODE, {"codes": list(codes)})


async def orgs_by_division(codes: Sequence[str], *, session: AsyncSession) -> Sequence[ReadRow]:
    return await rows(session, _ORGS_BY_DIVISION, {"codes": list(codes)})


async def orgs_by_code(codes: Sequence[str], *, session: AsyncSession) -> Sequence[ReadRow]:
    return await rows(session, _ORGS_BY_CODE, {"codes": list(codes)})


async def implementations_by_code(
    codes: Sequence[str], *, session: AsyncSession
) -> Sequence[ReadRow]:
    return await rows(session, _IMPLS_BY_CODE, {"codes": list(codes)})


async def implementations_by_division(
    division_codes: Sequence[str], *, session: AsyncSession
) -> Sequence[ReadRow]:
    """The published implementation lists of the given divisions' service orgs."""
    return await rows(session, _IMPLS_BY_DIVISION, {"codes": list(division_codes)})


async def implementations_by_basic_code(
    basic_codes: Sequence[str], *, session: AsyncSession
) -> Sequence[ReadRow]:
    return await rows(session, _IMPLS_BY_BASIC_CODE, {"codes": list(basic_codes)})


async def materials_by_implementation(
    codes: Sequence[str], *, session: AsyncSession
) -> Sequence[ReadRow]:
    return await rows(session, _MATERIALS_BY_IMPL, {"codes": list(codes)})
