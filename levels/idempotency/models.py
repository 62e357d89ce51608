"""Idempotency records (DESIGN §6): one row per (client, operation, key), written in
the same transaction as the effect of the mutation it guards, in the store that
effect is written to — so the record and the effect commit or roll back together,
and the primary key refuses a second effect under the same key in that store."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from levels.common.models import LevelBase


class IdempotencyRecord(LevelBase):
    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_expires_at", "expires_at"),)

    # the token's subject: an account id or a machine client's id
    client: Mapped[str] = mapped_column(String(80), primary_key=True)
    # the root fields of the mutation, comma-separated (``referCase``)
    operation: Mapped[str] = mapped_column(String(255), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    # SHA-256 (hex) of the document, operation name and variables (canonical JSON)
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    # what the transaction wrote: {"store": "county", "rows": ["cases:<number>", …]}
    # (null for a mutation that wrote nothing)
    effect: Mapped[dict[str, Any] | None]
    # the response the client got, saved in a second short transaction; null while
    # the request runs or when the hub stopped between the commit and the save
    status_code: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(128))
    response: Mapped[bytes | None] = mapped_column(LargeBinary)
