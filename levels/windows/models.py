"""Tables of windows at work, in the store of the window's org: its setup (posts,
matters served, queue prefix, kiosk functions), opening hours, queue tickets and their
daily counters, appointment slots and bookings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, Enum, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from levels.common.enums import WindowKind
from levels.common.models import LevelBase
from levels.common.publicids import public_id_column
from levels.windows.enums import AppointmentStatus, DayKind, TicketChannel, TicketStatus


def _enum(cls: type) -> Enum:
    return Enum(cls, native_enum=False, length=32, validate_strings=True)


class WindowSetup(LevelBase):
    """How a window works: who holds its A and B posts (AB角) and who is signed in on
    them now, the matters it serves (none listed: those of its departments), the
    letters of its ticket numbers, and a kiosk's functions."""

    __tablename__ = "window_setups"

    window_id: Mapped[str] = mapped_column(ForeignKey("windows.id"), primary_key=True)
    org_code: Mapped[str] = mapped_column(String(18), index=True)
    a_staff_id: Mapped[str | None] = mapped_column(String(32))
    a_staff_name: Mapped[str | None] = mapped_column(String(100))
    b_staff_id: Mapped[str | None] = mapped_column(String(32))
    b_staff_name: Mapped[str | None] = mapped_column(String(100))
    a_on_post_since: Mapped[dt.datetime | None]
    b_on_post_since: Mapped[dt.datetime | None]
    queue_prefix: Mapped[str | None] = mapped_column(String(3))
    basic_codes: Mapped[list[Any]] = mapped_column(default=list)
    kiosk_functions: Mapped[list[Any]] = mapped_column(default=list)
    # the languages the desk serves in (zh, bo …): 003 "藏汉双语咨询服务导办台"
    languages: Mapped[list[Any]] = mapped_column(default=list)
    updated_at: Mapped[dt.datetime]


class WindowHours(LevelBase):
    """One opening span of a window on a kind of day, in minutes after midnight
    (China time): 510–720 is 8:30–12:00, 0–1440 the whole day. ``extended`` marks
    延时/错时 service (lunch time, evenings, weekends)."""

    __tablename__ = "window_hours"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    window_id: Mapped[str] = mapped_column(ForeignKey("windows.id"), index=True)
    org_code: Mapped[str] = mapped_column(String(18), index=True)
    day_kind: Mapped[DayKind] = mapped_column(_enum(DayKind))
    opens: Mapped[int] = mapped_column(Integer)
    closes: Mapped[int] = mapped_column(Integer)
    extended: Mapped[bool] = mapped_column(default=False)


class TicketCounter(LevelBase):
    """The last ticket number given per org, day and prefix (A001, A002, …)."""

    __tablename__ = "ticket_counters"

    org_code: Mapped[str] = mapped_column(String(18), primary_key=True)
    service_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(3), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class QueueTicket(LevelBase):
    """A queue ticket (取号) of one day at one org: for a matter (any receiving window
    serving it may call it), a window kind, or one window (after a transfer, or an
    appointment's check-in)."""

    __tablename__ = "queue_tickets"
    __table_args__ = (
        UniqueConstraint("org_code", "service_date", "number"),
        Index("ix_queue_tickets_org_day", "org_code", "service_date", "status"),
        Index("ix_queue_tickets_holder", "holder_id", "service_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # what crosses the API: unique across nodes (levels/common/publicids.py)
    public_id: Mapped[str] = public_id_column()
    org_code: Mapped[str] = mapped_column(String(18))
    division_code: Mapped[str] = mapped_column(String(12))
    service_date: Mapped[dt.date] = mapped_column(Date)
    number: Mapped[str] = mapped_column(String(8))
    window_kind: Mapped[WindowKind] = mapped_column(_enum(WindowKind))
    basic_code: Mapped[str | None] = mapped_column(String(12))
    department_id: Mapped[str | None] = mapped_column(String(15))
    window_id: Mapped[str | None] = mapped_column(String(15))
    channel: Mapped[TicketChannel] = mapped_column(_enum(TicketChannel))
    holder_id: Mapped[str | None] = mapped_column(String(32))
    issued_by: Mapped[str] = mapped_column(String(32))
    issued_at: Mapped[dt.datetime]
    priority: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[TicketStatus] = mapped_column(_enum(TicketStatus))
    called_at: Mapped[dt.datetime | None]
    called_window_id: Mapped[str | None] = mapped_column(String(15))
    called_by: Mapped[str | None] = mapped_column(String(32))
    recalls: Mapped[int] = mapped_column(Integer, default=0)
    transferred_from: Mapped[str | None] = mapped_column(String(15))
    finished_at: Mapped[dt.datetime | None]
    case_number: Mapped[str | None] = mapped_column(String(27))
    appointment_id: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str | None] = mapped_column(String(8))  # asked for; routed by it


class AppointmentSlot(LevelBase):
    """A bookable span of one window on one day (预约时段), with its capacity."""

    __tablename__ = "appointment_slots"
    __table_args__ = (
        UniqueConstraint("window_id", "service_date", "starts"),
        Index("ix_appointment_slots_org_day", "org_code", "service_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # what crosses the API: unique across nodes (levels/common/publicids.py)
    public_id: Mapped[str] = public_id_column()
    window_id: Mapped[str] = mapped_column(ForeignKey("windows.id"))
    org_code: Mapped[str] = mapped_column(String(18))
    service_date: Mapped[dt.date] = mapped_column(Date)
    starts: Mapped[int] = mapped_column(Integer)  # minutes after midnight, China time
    ends: Mapped[int] = mapped_column(Integer)
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)


class Appointment(LevelBase):
    """One person's booking of a slot; cancelled and booked again, it is the same row."""

    __tablename__ = "appointments"
    __table_args__ = (
        UniqueConstraint("slot_id", "person_id"),
        Index("ix_appointments_person", "person_id", "service_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # what crosses the API: unique across nodes (levels/common/publicids.py)
    public_id: Mapped[str] = public_id_column()
    slot_id: Mapped[int] = mapped_column(ForeignKey("appointment_slots.id"))
    person_id: Mapped[str] = mapped_column(String(32))
    org_code: Mapped[str] = mapped_column(String(18))
    division_code: Mapped[str] = mapped_column(String(12))
    window_id: Mapped[str] = mapped_column(String(15))
    service_date: Mapped[dt.date] = mapped_column(Date)
    basic_code: Mapped[str | None] = mapped_column(String(12))
    status: Mapped[AppointmentStatus] = mapped_column(_enum(AppointmentStatus))
    booked_at: Mapped[dt.datetime]
    cancelled_at: Mapped[dt.datetime | None]
    checked_in_at: Mapped[dt.datetime | None]
    ticket_id: Mapped[int | None] = mapped_column(Integer)


class StaffLanguages(LevelBase):
    """The languages one staff member of an org serves in (zh, bo …)."""

    __tablename__ = "staff_languages"

    org_code: Mapped[str] = mapped_column(String(18), primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    staff_name: Mapped[str] = mapped_column(String(100))
    languages: Mapped[list[Any]] = mapped_column(default=list)
    updated_at: Mapped[dt.datetime]
