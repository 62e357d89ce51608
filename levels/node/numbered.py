"""The rows a store numbers with an integer, found by that number: what a global ID of
the previous release names (``Type:LEVEL:<row number>``, ``resolvers/globalid.py``).
The number is unique in one store only; the previous release kept one store per level,
so a node holding the level answers the row it numbers so, if any, by its public key
(``levels/common/publicids.py``), and the hub decides — one answer among the nodes
holding the level, that row; several, an ID it cannot resolve without guessing."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.evaluations.models import Complaint, Evaluation, Rectification
from levels.windows.models import Appointment, AppointmentSlot, QueueTicket


class NumberedKind(enum.Enum):
    EVALUATION = "EVALUATION"
    RECTIFICATION = "RECTIFICATION"
    COMPLAINT = "COMPLAINT"
    TICKET = "TICKET"
    SLOT = "SLOT"
    APPOINTMENT = "APPOINTMENT"


MODELS: dict[NumberedKind, type[Any]] = {
    NumberedKind.EVALUATION: Evaluation,
    NumberedKind.RECTIFICATION: Rectification,
    NumberedKind.COMPLAINT: Complaint,
    NumberedKind.TICKET: QueueTicket,
    NumberedKind.SLOT: AppointmentSlot,
    NumberedKind.APPOINTMENT: Appointment,
}

# the kind of each type a global ID names
OF_TYPE: dict[str, NumberedKind] = {
    "Evaluation": NumberedKind.EVALUATION,
    "Rectification": NumberedKind.RECTIFICATION,
    "Complaint": NumberedKind.COMPLAINT,
    "Ticket": NumberedKind.TICKET,
    "AppointmentSlot": NumberedKind.SLOT,
    "Appointment": NumberedKind.APPOINTMENT,
}


async def public_ids(
    kind: NumberedKind, numbers: Sequence[int], *, session: AsyncSession
) -> list[tuple[int, str]]:
    """(number, public key) of the rows of ``kind`` this store numbers so, by number;
    one statement (the primary key)."""
    if not numbers:
        return []
    model = MODELS[kind]
    found = await session.execute(
        select(model.id, model.public_id).where(model.id.in_(list(numbers))).order_by(model.id)
    )
    return [(int(number), str(key)) for number, key in found.all()]
