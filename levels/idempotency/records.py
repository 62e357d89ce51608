"""The record of a keyed mutation, written with its effect (see ``gateway/idempotency.py``).

A SQLAlchemy ``before_commit`` hook adds the record to the first transaction of the
request that writes to a level store, so both commit or roll back together; the rows
the effect wrote are named in the record's reference. ``pending_var`` carries the
request's ``Pending`` record to the hooks — from the hub's ``Idempotency`` extension
for the hub's own transactions, and from a node's endpoint (``gateway/node_http.py``)
for the node's, when the hub's write call carries the key (``encode``/``decode``: the
``Govhub-Idempotency`` header); a session with none (outside keyed mutations) is left
alone."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import delete, event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import UnboundExecutionError
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from levels.audit.postgres import ROWS_WRITTEN
from levels.common.store import Store
from levels.idempotency.models import IdempotencyRecord

# the stores' tables and rows an effect reference names, at most
MAX_REFERENCE_ROWS = 20


@dataclass
class Pending:
    """The record a running mutation writes with its first write to a level store."""

    client: str
    operation: str
    key: str
    fingerprint: str
    created_at: dt.datetime
    expires_at: dt.datetime
    # the sync engines of the level stores (the hook sees sync sessions)
    engines: dict[Engine, Store]
    committed: Store | None = None
    effect: dict[str, Any] | None = None
    closed: bool = False
    # a node refused the write: a twin request's record of the key is there
    # (IDEMPOTENCY_IN_PROGRESS), so this request answers as that one did
    twin: bool = False

    @property
    def open(self) -> bool:
        """Still to be written with the first effect."""
        return not self.closed and self.committed is None and not self.twin

    def committed_at(self, name: str, effect: dict[str, Any]) -> None:
        """The record was written with the effect in store ``name`` (a node's
        transaction, as the node answered)."""
        for store in self.engines.values():
            if store.name == name:
                self.committed, self.effect = store, effect
                return

    def record(self, effect: dict[str, Any] | None) -> IdempotencyRecord:
        return IdempotencyRecord(
            client=self.client,
            operation=self.operation,
            key=self.key,
            fingerprint=self.fingerprint,
            created_at=self.created_at,
            expires_at=self.expires_at,
            effect=effect,
        )


# the header of a node write call that carries the key (the hub's call, checked with
# its hub token), and of the node's answer when the record was written with the effect
HEADER = "govhub-idempotency"
EFFECT_HEADER = "govhub-idempotency-effect"


def _identity_json(record: Pending | IdempotencyRecord) -> dict[str, Any]:
    """Whose request a record is of, and when it was made and ends, as JSON."""
    return {
        "client": record.client,
        "operation": record.operation,
        "key": record.key,
        "fingerprint": record.fingerprint,
        "createdAt": record.created_at.isoformat(),
        "expiresAt": record.expires_at.isoformat(),
    }


def _identity(fields: Any) -> dict[str, Any]:
    """What ``_identity_json`` made, as the columns' values (cut to their lengths)."""
    return {
        "client": str(fields["client"])[:80],
        "operation": str(fields["operation"])[:255],
        "key": str(fields["key"])[:255],
        "fingerprint": str(fields["fingerprint"])[:64],
        "created_at": dt.datetime.fromisoformat(fields["createdAt"]),
        "expires_at": dt.datetime.fromisoformat(fields["expiresAt"]),
    }


def encode(pending: Pending) -> str:
    """What a node needs to write ``pending``'s record, as the header's value."""
    return orjson.dumps(_identity_json(pending)).decode()


def decode(value: str, store: Store) -> Pending:
    """The record a node writes with its effect in ``store`` (ValueError: not one)."""
    try:
        return Pending(**_identity(orjson.loads(value)), engines={store.engine.sync_engine: store})
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not an idempotency record: {exc}") from None


pending_var: ContextVar[Pending | None] = ContextVar("govhub_idempotency_pending", default=None)
_WROTE = "govhub_idempotency_wrote"
_ROWS = "govhub_idempotency_rows"
_ADDED = "govhub_idempotency_added"


def _active() -> Pending | None:
    pending = pending_var.get()
    return None if pending is None or pending.closed else pending


def _after_flush(session: Session, _context: Any) -> None:
    if _active() is None:
        return
    session.info[_WROTE] = True
    rows: list[str] = session.info.setdefault(_ROWS, [])
    for obj in [*session.new, *session.dirty, *session.deleted]:
        if isinstance(obj, IdempotencyRecord) or len(rows) >= MAX_REFERENCE_ROWS:
            continue
        mapper = inspect(obj).mapper
        key = ",".join(str(v) for v in mapper.primary_key_from_instance(obj))
        row = f"{mapper.local_table.name}:{key}"
        if row not in rows:
            rows.append(row)


def _do_orm_execute(state: ORMExecuteState) -> None:
    written = state.execution_options.get(ROWS_WRITTEN, ())
    if _active() is not None and (state.is_insert or state.is_update or state.is_delete or written):
        state.session.info[_WROTE] = True
        # rows written outside the flush (a case's UPDATE in its audit append)
        rows: list[str] = state.session.info.setdefault(_ROWS, [])
        for row in written:
            if row not in rows and len(rows) < MAX_REFERENCE_ROWS:
                rows.append(row)


def _before_commit(session: Session) -> None:
    pending = _active()
    if pending is None or not pending.open or session.in_nested_transaction():
        return
    if _ADDED in session.info:
        return
    try:
        bind = session.get_bind()
    except UnboundExecutionError:
        return
    node = pending.engines.get(bind)  # type: ignore[arg-type]
    if node is None:
        return  # the identity store: not a level store
    session.flush()
    if not session.info.get(_WROTE):
        return  # a transaction that wrote nothing carries no record
    # a key whose record expired (and was not purged yet) is new again
    session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.client == pending.client,
            IdempotencyRecord.operation == pending.operation,
            IdempotencyRecord.key == pending.key,
            IdempotencyRecord.expires_at <= pending.created_at,
        )
    )
    effect = {"store": node.name, "rows": list(session.info.get(_ROWS, []))}
    session.add(pending.record(effect))
    session.info[_ADDED] = (pending, node, effect)


def _after_commit(session: Session) -> None:
    added = session.info.pop(_ADDED, None)
    if added is not None:
        pending, node, effect = added
        pending.committed, pending.effect = node, effect


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        for name in (_WROTE, _ROWS, _ADDED):
            session.info.pop(name, None)


_hooks_installed = False


def install_hooks() -> None:
    """Listen to every session of the process (once); a session with no pending
    record (the contextvar is unset outside keyed mutations) is left alone."""
    global _hooks_installed
    if _hooks_installed:
        return
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _do_orm_execute)
    event.listen(Session, "before_commit", _before_commit)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_transaction_end", _after_transaction_end)
    _hooks_installed = True


# --- a record as JSON: what a node with an address answers of it and keeps of it -------


def to_json(record: IdempotencyRecord) -> dict[str, Any]:
    return {
        **_identity_json(record),
        "effect": record.effect,
        "statusCode": record.status_code,
        "contentType": record.content_type,
        "response": None if record.response is None else base64.b64encode(record.response).decode(),
    }


def of_json(fields: Any) -> IdempotencyRecord:
    """The record ``to_json`` made (ValueError: not one)."""
    try:
        response = fields["response"]
        return IdempotencyRecord(
            **_identity(fields),
            effect=fields["effect"] if isinstance(fields["effect"], dict) else None,
            status_code=None if fields["statusCode"] is None else int(fields["statusCode"]),
            content_type=None if fields["contentType"] is None else str(fields["contentType"]),
            response=None if response is None else base64.b64decode(response),
        )
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise ValueError(f"not an idempotency record: {exc}") from None
