"""Appointments (预约): slots of a window on a day, each with a capacity; a person
books a slot once, may cancel it, and checks in at the hall (kiosk or app) from 30
minutes before the slot until its end — the check-in is a ticket of the window, called
before the walk-ins (priority).

A slot is refused in the past (``SLOT_PAST``) and when full (``SLOT_FULL``): the seat
is taken with one conditional UPDATE, so two people never get the last one. Slots are
opened only within the window's opening hours on that day (a holiday has none unless
the window serves on holidays)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from levels.calendar.workdays import WorkCalendar
from levels.cases.service import Actor
from levels.common.clock import CHINA
from levels.common.errors import DomainError
from levels.common.models import ServiceOrg
from levels.windows import hours
from levels.windows.board import QUEUEING
from levels.windows.enums import AppointmentStatus, TicketChannel
from levels.windows.errors import WindowErrorCode as E
from levels.windows.models import Appointment, AppointmentSlot, QueueTicket, WindowHours
from levels.windows.queue import TicketRequest, issue_ticket
from levels.windows.service import audit, window_of

CHECK_IN_EARLY = dt.timedelta(minutes=30)
MAX_CAPACITY = 100
MAX_SLOTS = 48


@dataclass(frozen=True)
class SlotDraft:
    starts: int  # minutes after midnight
    ends: int
    capacity: int


def starts_at(slot: AppointmentSlot) -> dt.datetime:
    midnight = dt.datetime.combine(slot.service_date, dt.time(), tzinfo=CHINA)
    return midnight + dt.timedelta(minutes=slot.starts)


def ends_at(slot: AppointmentSlot) -> dt.datetime:
    midnight = dt.datetime.combine(slot.service_date, dt.time(), tzinfo=CHINA)
    return midnight + dt.timedelta(minutes=slot.ends)


async def open_slots(
    window_id: str,
    day: dt.date,
    drafts: Sequence[SlotDraft],
    *,
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    calendar: WorkCalendar,
) -> list[AppointmentSlot]:
    """Open (or re-size) slots of a window on a day; a slot never shrinks below what
    is booked."""
    window = await window_of(session, window_id)
    if window.kind not in QUEUEING:
        raise DomainError(E.WINDOW_TAKES_NO_TICKETS, field=["input", "windowId"])
    if not drafts or len(drafts) > MAX_SLOTS:
        raise DomainError(E.INVALID_SLOT, field=["input", "slots"])
    if dt.datetime.combine(day, dt.time(23, 59), tzinfo=CHINA) < now:
        raise DomainError(E.SLOT_PAST, field=["input", "date"])
    rows = await session.scalars(select(WindowHours).where(WindowHours.window_id == window.id))
    spans = [hours.Span(h.day_kind, h.opens, h.closes, h.extended) for h in rows]
    kind = hours.day_kind(calendar, day)
    opened: list[AppointmentSlot] = []
    for i, d in enumerate(drafts):
        where = ["input", "slots", str(i)]
        inside = any(
            s.day_kind is kind and s.opens <= d.starts and d.ends <= s.closes
            for s in hours.effective(spans)
        )
        if not (0 < d.capacity <= MAX_CAPACITY and d.starts < d.ends and inside):
            raise DomainError(E.INVALID_SLOT, field=where)
        slot = await session.scalar(
            select(AppointmentSlot)
            .where(
                AppointmentSlot.window_id == window.id,
                AppointmentSlot.service_date == day,
                AppointmentSlot.starts == d.starts,
            )
            .with_for_update()
        )
        if slot is None:
            slot = AppointmentSlot(
                window_id=window.id,
                org_code=window.org_code,
                service_date=day,
                starts=d.starts,
                ends=d.ends,
                capacity=d.capacity,
                booked=0,
            )
            session.add(slot)
        elif d.capacity < slot.booked or d.ends != slot.ends:
            raise DomainError(E.INVALID_SLOT, field=where)
        else:
            slot.capacity = d.capacity
        opened.append(slot)
    await session.flush()
    await audit(
        session, actor, "OPEN_APPOINTMENT_SLOTS", now, window_id=window.id,
        detail={"date": day.isoformat(), "slots": [s.id for s in opened]},
    )  # fmt: skip
    return opened


async def book(
    slot_id: int,
    basic_code: str | None,
    *,
    org: ServiceOrg,
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
) -> Appointment:
    slot = await session.get(AppointmentSlot, slot_id)
    if slot is None or slot.org_code != org.code:
        raise DomainError(E.SLOT_NOT_FOUND, field=["input", "slotId"])
    if starts_at(slot) <= now:
        raise DomainError(E.SLOT_PAST, field=["input", "slotId"])
    row = await session.scalar(
        select(Appointment)
        .where(Appointment.slot_id == slot.id, Appointment.person_id == actor.id)
        .with_for_update()
    )
    if row is not None and row.status is not AppointmentStatus.CANCELLED:
        raise DomainError(E.ALREADY_BOOKED, field=["input", "slotId"])
    seat = await session.execute(
        update(AppointmentSlot)
        .where(AppointmentSlot.id == slot.id, AppointmentSlot.booked < AppointmentSlot.capacity)
        .values(booked=AppointmentSlot.booked + 1)
    )
    if seat.rowcount != 1:  # type: ignore[attr-defined]
        raise DomainError(E.SLOT_FULL, field=["input", "slotId"])
    if row is None:
        row = Appointment(
            slot_id=slot.id,
            person_id=actor.id,
            org_code=slot.org_code,
            division_code=org.division_code,
            window_id=slot.window_id,
            service_date=slot.service_date,
        )
        session.add(row)
    row.basic_code = basic_code
    row.status, row.booked_at = AppointmentStatus.BOOKED, now
    row.cancelled_at = row.checked_in_at = None
    row.ticket_id = None
    await session.flush()
    await audit(
        session, actor, "BOOK_APPOINTMENT", now, window_id=slot.window_id,
        after=AppointmentStatus.BOOKED.value, detail={"appointmentId": row.id, "slotId": slot.id},
    )  # fmt: skip
    return row


async def _own(session: AsyncSession, appointment_id: int, actor: Actor) -> Appointment:
    row = await session.get(
        Appointment, appointment_id, with_for_update=True, populate_existing=True
    )
    if row is None:
        raise DomainError(E.APPOINTMENT_NOT_FOUND, field=["input", "appointmentId"])
    if row.person_id != actor.id:
        raise DomainError(E.NOT_THE_HOLDER, field=["input", "appointmentId"])
    if row.status is not AppointmentStatus.BOOKED:
        raise DomainError(E.APPOINTMENT_CLOSED, field=["input", "appointmentId"])
    return row


async def cancel(
    appointment_id: int, *, session: AsyncSession, actor: Actor, now: dt.datetime
) -> Appointment:
    """The person cancels: the seat is free again."""
    row = await _own(session, appointment_id, actor)
    row.status, row.cancelled_at = AppointmentStatus.CANCELLED, now
    await session.execute(
        update(AppointmentSlot)
        .where(AppointmentSlot.id == row.slot_id, AppointmentSlot.booked > 0)
        .values(booked=AppointmentSlot.booked - 1)
    )
    await session.flush()
    await audit(
        session, actor, "CANCEL_APPOINTMENT", now, window_id=row.window_id,
        before=AppointmentStatus.BOOKED.value, after=row.status.value,
        detail={"appointmentId": row.id},
    )  # fmt: skip
    return row


async def check_in(
    appointment_id: int,
    channel: TicketChannel,
    *,
    org: ServiceOrg,
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    calendar: WorkCalendar,
) -> tuple[Appointment, QueueTicket]:
    """签到: a ticket of the booked window, called before the walk-ins."""
    row = await _own(session, appointment_id, actor)
    slot = await session.get(AppointmentSlot, row.slot_id)
    assert slot is not None
    if not (starts_at(slot) - CHECK_IN_EARLY <= now < ends_at(slot)):
        raise DomainError(E.NOT_CHECK_IN_TIME, field=["input", "appointmentId"])
    request = TicketRequest(
        org=org,
        channel=channel,
        holder_id=actor.id,
        window_id=slot.window_id,
        priority=1,
        appointment_id=row.id,
    )
    ticket = await issue_ticket(
        request, session=session, actor=actor, now=now, calendar=calendar, check_hours=False
    )
    row.status, row.checked_in_at, row.ticket_id = AppointmentStatus.CHECKED_IN, now, ticket.id
    await session.flush()
    await audit(
        session, actor, "CHECK_IN_APPOINTMENT", now, window_id=row.window_id,
        before=AppointmentStatus.BOOKED.value, after=row.status.value,
        detail={"appointmentId": row.id, "ticketId": ticket.id},
    )  # fmt: skip
    return row, ticket


async def slots_of(
    org_code: str, day: dt.date, window_id: str | None, *, session: AsyncSession
) -> Sequence[AppointmentSlot]:
    stmt = select(AppointmentSlot).where(
        AppointmentSlot.org_code == org_code, AppointmentSlot.service_date == day
    )
    if window_id is not None:
        stmt = stmt.where(AppointmentSlot.window_id == window_id)
    return (
        await session.scalars(stmt.order_by(AppointmentSlot.starts, AppointmentSlot.window_id))
    ).all()
