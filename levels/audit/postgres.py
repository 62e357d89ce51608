"""The chain append's statements on PostgreSQL (``levels.audit.chain``): each compiled
once, and as few round trips under a head's lock as the chain allows — its other
appenders wait for every one of them. The heads of an append are locked and read in
one statement; then one event is inserted and its head moved in one more (an INSERT in
a WITH), or a batch's events in one and its heads in one."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import Integer, String, Table, bindparam, insert, text
from sqlalchemy.ext.asyncio import AsyncSession

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
_APPEND_ONE = text(
    f"WITH appended AS (INSERT INTO audit_events ({', '.join(_COLUMNS)})"
    f" VALUES ({', '.join(':' + c for c in _COLUMNS)})) {_MOVE_HEAD}"
).bindparams(*_EVENT_BINDS)
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


async def write(
    session: AsyncSession, rows: list[dict[str, Any]], moved: list[dict[str, Any]]
) -> None:
    """Insert the events ``rows`` (with their links) and move each head of ``moved``
    (``division_code``, ``seq``, ``hash``, ``at``), inside the caller's transaction."""
    if len(rows) == 1:
        await session.execute(_APPEND_ONE, rows[0])
    else:
        await session.execute(insert(_events), rows)
        await session.execute(_MOVE_HEADS, moved)
