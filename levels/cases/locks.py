"""The case rows the caller's transaction holds locked (``SELECT … FOR UPDATE``).

A write asks for its case locked more than once — the due timers first
(``due.apply_due``), then the step (``steps.take_step``) — and only the first asks
the database: while the transaction (or the savepoint) that took the lock is open the
row cannot change under it, and the session's copy of the row is current (every
change in the transaction goes through the session). A lock taken in a savepoint that
was rolled back is not counted: the row is locked and read again."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import SessionTransaction

_KEY = "locked_cases"


def _open_transactions(session: AsyncSession) -> list[SessionTransaction]:
    """The transaction in progress and every one it is nested in."""
    sync = session.sync_session
    at = sync.get_nested_transaction() or sync.get_transaction()
    chain = []
    while at is not None:
        chain.append(at)
        at = at.parent
    return chain


def holds(session: AsyncSession, number: str) -> bool:
    """Has this transaction (or one it is nested in) locked case ``number``?"""
    marks: list[tuple[SessionTransaction, str]] = session.info.get(_KEY, [])
    if not marks:
        return False
    chain = _open_transactions(session)
    return any(n == number and any(t is o for o in chain) for t, n in marks)


def mark(session: AsyncSession, number: str) -> None:
    """Case ``number`` was just locked by the transaction in progress."""
    innermost = _open_transactions(session)[:1]
    session.info.setdefault(_KEY, []).extend((t, number) for t in innermost)
