"""The audit trail of a node: append-only events, one hash chain per division, each
with a signed head."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from levels.common.models import LevelBase


class AuditEvent(LevelBase):
    """One action: who (actor, kind, role, channel, org, level), when, what (action,
    case, status before → after, detail), the request id, and the chain link
    ``hash = H(prev_hash ‖ canonical(event))`` in the chain of its division, where it
    is the ``seq``-th event."""

    __tablename__ = "audit_events"

    # the division whose chain holds it (``NODE_DIVISION`` for a node's own events)
    division_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime]
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_kind: Mapped[str] = mapped_column(String(16))
    # every post the actor holds, comma-separated
    role: Mapped[str | None] = mapped_column(String(128))
    channel: Mapped[str | None] = mapped_column(String(16))
    org_code: Mapped[str | None] = mapped_column(String(18))
    level: Mapped[str] = mapped_column(String(8))
    action: Mapped[str] = mapped_column(String(48))
    case_number: Mapped[str | None] = mapped_column(String(27), index=True)
    before: Mapped[str | None] = mapped_column(String(32))
    after: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]]
    request_id: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(LevelBase):
    """The newest link of one division's chain, signed, updated with every append to
    that chain (its row lock is what keeps the chain from forking; appends to other
    divisions do not touch it)."""

    __tablename__ = "audit_heads"

    division_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[dt.datetime]
    kid: Mapped[str | None] = mapped_column(String(40))
    signature: Mapped[str | None] = mapped_column(Text)
