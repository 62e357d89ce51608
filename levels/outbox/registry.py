"""The handlers of cross-level messages, by topic.

A module that sends messages of a topic also says how the target store applies them::

    @handler("case.referred")
    async def apply_referral(session: AsyncSession, envelope: Envelope, now: dt.datetime):
        ...

A handler runs inside the target store's transaction, together with the inbox row of
the message, so whatever it writes happens once. It raises ``DomainError`` for a
message that can never apply (the message fails at once: an incident); any other
exception is taken as passing and the message is sent again later."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from levels.common.enums import Level


@dataclass(frozen=True)
class Envelope:
    """A message as its handler sees it."""

    id: str
    topic: str
    source_level: Level
    target_level: Level
    case_number: str | None
    payload: dict[str, Any]
    # the entity the message is about and its place among that entity's messages from
    # the same source to the same target (1, 2, …): applied in that order
    entity: str | None = None
    entity_seq: int | None = None


Handler = Callable[[AsyncSession, Envelope, dt.datetime], Awaitable[None]]

HANDLERS: dict[str, Handler] = {}


def _definition(fn: Handler) -> tuple[str, str]:
    code = getattr(fn, "__code__", None)
    return getattr(code, "co_filename", repr(fn)), getattr(fn, "__qualname__", repr(fn))


def handler(topic: str) -> Callable[[Handler], Handler]:
    """Register ``fn`` as the handler of ``topic``: one per topic (the same definition
    imported again under another module name replaces itself)."""

    def register(fn: Handler) -> Handler:
        known = HANDLERS.get(topic)
        if known is not None and _definition(known) != _definition(fn):
            raise ValueError(f"topic {topic!r} already has a handler: {known.__qualname__}")
        HANDLERS[topic] = fn
        return fn

    return register
