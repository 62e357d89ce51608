"""The two audited halves of a message about a case between stores (转报, and the
withdrawal that follows a referred case): the sender records the message it wrote, and
the message carries that event; the receiver records the message it applied, linked
to the sender's event (``levels/audit/chain.py``: the hand-over link)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from levels.audit.chain import carry_handover, with_handover
from levels.audit.models import AuditEvent
from levels.cases.enums import CaseStatus
from levels.cases.models import Case
from levels.cases.service import SYSTEM, Actor, record_event
from levels.outbox.models import OutboxMessage
from levels.outbox.service import Envelope


async def hand_over(
    session: AsyncSession,
    case: Case,
    message: OutboxMessage,
    *,
    actor: Actor,
    action: str,
    before: CaseStatus | None,
    now: dt.datetime,
    detail: dict[str, Any],
) -> AuditEvent:
    """Audit ``message`` in the sending store — the event names it and where it goes —
    and let the message carry the event: the receiving store's event links to it."""
    given = {"message": message.id, "to": message.target_level.value, **detail}
    event = await record_event(session, case, actor, action, before, now, given)
    message.payload = carry_handover(message.payload, event)
    await session.flush()
    return event


def received(envelope: Envelope, **extra: Any) -> dict[str, Any]:
    """The detail of the event that applies ``envelope`` in the receiving store: the
    message, the level it came from, the link to the sender's event, and ``extra``
    (a value that is empty is left out)."""
    detail = {"message": envelope.id, "from": envelope.source_level.value}
    detail.update((key, value) for key, value in extra.items() if value)
    return with_handover(detail, envelope.payload)


def relay(org_code: str | None) -> Actor:
    """Who applies a message in the receiving store, as its trail records it."""
    return Actor(id="relay", kind=SYSTEM.kind, channel=SYSTEM.channel, org_code=org_code)
