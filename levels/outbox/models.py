"""The transport between level stores (DESIGN §2): a transactional outbox in the
source store, an inbox keyed by message id in the target store.

A cross-level write is a row of ``outbox``, written in the same transaction as the
change that causes it; the relay carries it to the target store, where the handler of
its topic applies it in the same transaction as the ``inbox`` row with its id — so a
message is applied exactly once however often it is sent."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import Enum, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from levels.common.enums import Level
from levels.common.models import LevelBase


def _enum(cls: type) -> Enum:
    return Enum(cls, native_enum=False, length=32, validate_strings=True)


class MessageState(enum.Enum):
    PENDING = "PENDING"  # written, not yet applied in the target store
    SENT = "SENT"  # handed to the message transport, its receipt not yet back
    DELIVERED = "DELIVERED"  # applied in the target store (its inbox holds the id)
    ACKNOWLEDGED = "ACKNOWLEDGED"  # the source has seen the target's inbox row
    FAILED = "FAILED"  # kept failing: an incident an operator sees and retries
    DEAD = "DEAD"  # an incident an operator gave up (`govhub messages dead <id>`)


class OutboxMessage(LevelBase):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "state", "next_attempt_at"),
        # one stream per entity and target: its messages are numbered 1, 2, 3 …
        # numbered per source level, as the receiver checks the order (an entity's messages
        # from the town and the county levels of one node are two sequences)
        Index(
            "ix_outbox_entity_seq",
            "entity",
            "source_level",
            "target_level",
            "entity_seq",
            unique=True,
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # uuid4 hex
    topic: Mapped[str] = mapped_column(String(48))
    source_level: Mapped[Level] = mapped_column(_enum(Level))
    target_level: Mapped[Level] = mapped_column(_enum(Level))
    case_number: Mapped[str | None] = mapped_column(String(27), index=True)
    # where the message belongs, for who may see it: the case's division, else the
    # source org's
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    # the division the message goes to: its node is the owner of that division at the
    # target level (None: the owner of ``division_code``'s ancestor at that level)
    target_division: Mapped[str | None] = mapped_column(String(12), index=True, default=None)
    # what the message is about ("case:<number>", "delegation:<id>:<town>", …) and its
    # place among that entity's messages to the same target: they apply in this order
    entity: Mapped[str | None] = mapped_column(String(80))
    entity_seq: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]]
    state: Mapped[MessageState] = mapped_column(_enum(MessageState))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    delivered_at: Mapped[dt.datetime | None]
    acknowledged_at: Mapped[dt.datetime | None]
    # the JWS the source signed and sent (kept, so a republish sends the same bytes)
    # and the receipt its target signed on applying it (message transports other than
    # the direct relay)
    envelope: Mapped[str | None] = mapped_column(Text, default=None)
    receipt: Mapped[str | None] = mapped_column(Text, default=None)


class InboxMessage(LevelBase):
    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_entity_seq", "source_level", "entity", "entity_seq"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # the outbox id
    topic: Mapped[str] = mapped_column(String(48))
    source_level: Mapped[Level] = mapped_column(_enum(Level))
    case_number: Mapped[str | None] = mapped_column(String(27), index=True)
    entity: Mapped[str | None] = mapped_column(String(80))
    entity_seq: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[dt.datetime]
