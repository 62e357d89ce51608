"""The chain append's statements on PostgreSQL (``levels.audit.chain``): each compiled
once, and as few round trips under a head's lock as the chain allows — its other
appenders wait for every one of them. The heads of an append are locked and read in
one statement; then one event is inserted and its head moved in one more (an INSERT in
a WITH), or a batch's events in one and its heads in one.

A caller's row that its transaction holds locked (a case, ``SELECT … FOR UPDATE``) may
have its pending UPDATE go out in that last statement too (``take_update``, another
statement in the WITH) instead of by the ORM's flush before the head's lock: one round
trip fewer a write, none more under the head's lock, and the same lock order (the row,
locked before, then the head)."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Integer, String, Table, bindparam, insert, inspect, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import attributes
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql.selectable import TextualSelect

from levels.audit.models import AuditEvent, AuditHead

_events = cast(Table, AuditEvent.__table__)
_heads = cast(Table, AuditHead.__table__)
_COLUMNS = [c.name for c in _events.columns]
# PostgreSQL: a division's head locked and read; the heads of a batch, in division order
_LOCK_HEAD = text(
    "SELECT seq, hash FROM audit_heads WHERE division_code = :division FOR UPDATE"
).columns(seq=Integer, hash=String)
_LOCK_HEADS = text(
    "SELECT division_code, seq, hash FROM audit_heads WHERE division_code = ANY(:divisions)"
    " ORDER BY division_code FOR UPDATE"
).columns(division_code=String, seq=Integer, hash=String)
_NEW_HEAD = text(
    "INSERT INTO audit_heads (division_code, seq, hash, signed_at)"
    " VALUES (:division, 0, :genesis, :now) ON CONFLICT DO NOTHING"
).bindparams(bindparam("now", type_=_heads.c.signed_at.type))
# a signature covers the head it was made for, not the moved one
_MOVE_HEAD = (
    "UPDATE audit_heads SET seq = :seq, hash = :hash, signed_at = :at, kid = NULL,"
    " signature = NULL WHERE division_code = :division_code"
)
_EVENT_BINDS = [
    bindparam("detail", type_=_events.c.detail.type),
    bindparam("at", type_=_events.c.at.type),
]
# one event written and its head moved in one statement (an INSERT in a WITH)
_APPENDED = (
    f"appended AS (INSERT INTO audit_events ({', '.join(_COLUMNS)})"
    f" VALUES ({', '.join(':' + c for c in _COLUMNS)}))"
)
_APPEND_ONE = text(f"WITH {_APPENDED} {_MOVE_HEAD}").bindparams(*_EVENT_BINDS)
_quote = postgresql.dialect().identifier_preparer.quote
# the execution option naming the rows a statement wrote outside the ORM's flush
# ("<table>:<key>"), for what listens to the session's writes (a keyed mutation's record)
ROWS_WRITTEN = "govhub_rows_written"
_MOVE_HEADS = text(_MOVE_HEAD).bindparams(bindparam("at", type_=_heads.c.signed_at.type))


async def lock_heads(
    session: AsyncSession, divisions: list[str], now: dt.datetime, genesis: str
) -> dict[str, tuple[int, str]]:
    """The heads of ``divisions`` (sorted), locked and read in one statement, in
    division order (two appenders never wait on each other in a circle); a missing head
    is created at seq 0 first (``ON CONFLICT DO NOTHING``: another first appender
    may win; its head is then locked)."""
    for attempt in range(2):
        if len(divisions) == 1:
            row = (await session.execute(_LOCK_HEAD, {"division": divisions[0]})).first()
            found = {divisions[0]: (row.seq, row.hash)} if row is not None else {}
        else:
            rows = (await session.execute(_LOCK_HEADS, {"divisions": divisions})).all()
            found = {r.division_code: (r.seq, r.hash) for r in rows}
        missing = [d for d in divisions if d not in found]
        if not missing:
            return found
        if attempt:
            raise AssertionError(f"audit heads missing after their insert: {missing}")
        params = [{"division": d, "genesis": genesis, "now": now} for d in missing]
        await session.execute(_NEW_HEAD, params)
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class RowUpdate:
    """A row's pending UPDATE, taken from the ORM (``take_update``): the append's
    statement that carries it, and its parameters."""

    table: str
    key: str
    statement: TextualSelect
    params: dict[str, Any]


def take_update(row: object) -> RowUpdate | None:
    """The UPDATE the ORM's flush would send for ``row`` (a persistent mapped object):
    its changed columns, its version counter moved (when its mapper has one) and
    checked as the flush checks it; the changes are then marked as written, so the
    flush sends nothing for them. None when ``row`` has no change to write."""
    state = inspect(row)
    if not state.persistent or state.deleted:
        return None
    mapper = state.mapper
    columns = mapper.column_attrs
    # only the attributes set since they were loaded can have changed
    changed: dict[str, tuple[str, Any]] = {}
    for name in list(state.committed_state):
        if name in columns:
            added = state.attrs[name].history.added
            if added:
                changed[columns[name].columns[0].name] = (name, added[0])
    if not changed:
        return None
    table = cast(Table, mapper.local_table)
    pk = mapper.primary_key_from_instance(row)
    keys = {c.name: v for c, v in zip(mapper.primary_key, pk, strict=True)}
    version_col = mapper.version_id_col
    if version_col is not None and mapper.version_id_generator is not False:
        name = mapper.get_property_by_column(version_col).key
        version = state.attrs[name].history
        if not (version.deleted or version.unchanged):
            return None  # not read: the flush reads it first
        old = (version.deleted or version.unchanged)[0]
        keys[version_col.name] = old
        if version_col.name not in changed:
            changed[version_col.name] = (name, mapper.version_id_generator(old))
    for name, value in changed.values():
        attributes.set_committed_value(row, name, value)
    params = {f"row_set_{c}": v for c, (_, v) in changed.items()}
    params |= {f"row_key_{c}": v for c, v in keys.items()}
    statement = _append_one_with(table, tuple(changed), tuple(keys))
    return RowUpdate(table.name, ",".join(str(v) for v in pk), statement, params)


@functools.lru_cache(maxsize=128)
def _append_one_with(
    table: Table, changed: tuple[str, ...], keys: tuple[str, ...]
) -> TextualSelect:
    """One event inserted, its head moved and an UPDATE of ``table`` (its ``changed``
    columns, where ``keys`` match) sent, in one statement, which returns how many rows
    the UPDATE matched: compiled once for each set of columns."""
    sets = ", ".join(f"{_quote(c)} = :row_set_{c}" for c in changed)
    where = " AND ".join(f"{_quote(c)} = :row_key_{c}" for c in keys)
    binds = [bindparam(f"row_set_{c}", type_=table.c[c].type) for c in changed]
    binds += [bindparam(f"row_key_{c}", type_=table.c[c].type) for c in keys]
    return (
        text(
            f"WITH updated_row AS (UPDATE {_quote(table.name)} SET {sets} WHERE {where}"
            f" RETURNING 1), {_APPENDED} {_MOVE_HEAD}"
            " RETURNING (SELECT count(*) FROM updated_row) AS matched"
        )
        .bindparams(*_EVENT_BINDS, *binds)
        .columns(matched=Integer)
    )


async def write(
    session: AsyncSession,
    rows: list[dict[str, Any]],
    moved: list[dict[str, Any]],
    row_update: RowUpdate | None = None,
) -> None:
    """Insert the events ``rows`` (with their links) and move each head of ``moved``
    (``division_code``, ``seq``, ``hash``, ``at``), inside the caller's transaction;
    with ``row_update`` (one event), that UPDATE in the same statement."""
    if row_update is not None:
        assert len(rows) == 1, "a row's UPDATE goes with one event"
        await _append_one_updating(session, rows[0], row_update)
    elif len(rows) == 1:
        await session.execute(_APPEND_ONE, rows[0])
    else:
        await session.execute(insert(_events), rows)
        await session.execute(_MOVE_HEADS, moved)


async def _append_one_updating(
    session: AsyncSession, row: dict[str, Any], row_update: RowUpdate
) -> None:
    """``row`` appended with ``row_update`` in one statement; the row's UPDATE must
    have matched it, as the flush's must."""
    options = {ROWS_WRITTEN: (f"{row_update.table}:{row_update.key}",)}
    found = await session.execute(
        row_update.statement, row | row_update.params, execution_options=options
    )
    matched = found.scalar_one()
    if matched != 1:
        raise StaleDataError(
            f"UPDATE statement on table '{row_update.table}' expected to update 1 row(s);"
            f" {matched} were matched."
        )
