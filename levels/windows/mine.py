"""A person's own tickets and appointments in one store (``myTickets``,
``myAppointments``): the hub reads them from every store, by SQL or through a node's
API (``ticketsOf``, ``appointmentsOf``), with the same statements."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.windows.models import Appointment, AppointmentSlot, QueueTicket


async def tickets_of(
    holder: str, since: dt.date, limit: int, *, session: AsyncSession
) -> Sequence[QueueTicket]:
    """The tickets ``holder`` holds of ``since`` on, newest first (at most ``limit``)."""
    stmt = (
        select(QueueTicket)
        .where(QueueTicket.holder_id == holder, QueueTicket.service_date >= since)
        .order_by(QueueTicket.issued_at.desc())
        .limit(limit)
    )
    return (await session.scalars(stmt)).all()


async def appointments_of(
    person: str, since: dt.date, limit: int, *, session: AsyncSession
) -> list[tuple[Appointment, AppointmentSlot]]:
    """The appointments ``person`` booked of ``since`` on, each with its slot, soonest
    first (at most ``limit``)."""
    stmt = (
        select(Appointment, AppointmentSlot)
        .join(AppointmentSlot, AppointmentSlot.id == Appointment.slot_id)
        .where(Appointment.person_id == person, Appointment.service_date >= since)
        .order_by(Appointment.service_date, AppointmentSlot.starts)
        .limit(limit)
    )
    return [(a, s) for a, s in (await session.execute(stmt)).all()]
