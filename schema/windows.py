"""Windows at work in the schema: tickets, appointment slots and appointments, and the
inputs and payloads of the window mutations. What a ``Window`` itself shows (its A/B
posts, opening hours, kiosk functions and queue state) lives with it in
``schema/divisions.py``."""

from __future__ import annotations

import datetime as dt

import strawberry

from auth.policy import Resource, Target
from levels.common.enums import Level
from levels.windows import hours
from levels.windows.appointments import starts_at
from levels.windows.board import Board
from levels.windows.enums import (
    AppointmentStatus,
    DayKind,
    KioskFunction,
    TicketChannel,
    TicketStatus,
)
from levels.windows.models import Appointment as AppointmentRow
from levels.windows.models import AppointmentSlot as SlotRow
from levels.windows.models import QueueTicket
from resolvers.globalid import encode_id
from schema.divisions import Window
from schema.enums import WindowKind
from schema.info import Info
from schema.payloads import UserError

strawberry.enum(TicketChannel, description="Where a ticket was taken")
strawberry.enum(
    TicketStatus,
    description=(
        "Where a queue ticket stands: waiting, called, serving, finished, no-show, cancelled"
    ),
)
strawberry.enum(
    AppointmentStatus, description="Where an appointment stands: booked, checked in, cancelled"
)


async def _window(info: Info, window_id: str | None) -> Window | None:
    if window_id is None:
        return None
    row = await info.context.loaders.window_by_id.load(window_id)
    return Window.from_row(row) if row else None


def level_of_org_row(division_code: str) -> Level:
    from levels.common.codes import level_of_division

    level = level_of_division(division_code)
    assert level is not None
    return level


@strawberry.type(name="Ticket", description="取号: a queue ticket of one day at one org")
class TicketType:
    id: strawberry.ID = strawberry.field(description="The ticket's global ID")
    number: str = strawberry.field(description="`A001`, `A002` …, per org, day and prefix")
    status: TicketStatus = strawberry.field(description="Where the ticket stands")
    channel: TicketChannel = strawberry.field(
        description="Where it was taken: MOBILE, KIOSK or COUNTER"
    )
    service_date: dt.date = strawberry.field(description="The day it is for")
    org_code: str = strawberry.field(description="The org")
    window_kind: WindowKind = strawberry.field(description="The kind of window that calls it")
    basic_code: str | None = strawberry.field(description="The matter it was taken for")
    priority: bool = strawberry.field(description="Checked in from an appointment")
    issued_at: dt.datetime = strawberry.field(
        description="When it was taken (its place in the queue)"
    )
    called_at: dt.datetime | None = strawberry.field(description="When it was called")
    finished_at: dt.datetime | None = strawberry.field(description="When it was finished")
    recalls: int = strawberry.field(
        description="Times it was called again after a no-show (at most once)"
    )
    case_number: str | None = strawberry.field(description="The case it led to")
    _row: strawberry.Private[QueueTicket]
    _level: strawberry.Private[Level]

    @classmethod
    def from_row(cls, row: QueueTicket) -> TicketType:
        level = level_of_org_row(row.division_code)
        return cls(
            id=strawberry.ID(encode_id("Ticket", row.division_code, row.public_id)),
            number=row.number,
            status=row.status,
            channel=row.channel,
            service_date=row.service_date,
            org_code=row.org_code,
            window_kind=row.window_kind,
            basic_code=row.basic_code,
            priority=row.priority > 0,
            issued_at=row.issued_at,
            called_at=row.called_at,
            finished_at=row.finished_at,
            recalls=row.recalls,
            case_number=row.case_number,
            _row=row,
            _level=level,
        )

    @strawberry.field(description="The language asked for (藏汉双语); the window serves it")
    def language(self) -> str | None:
        return self._row.language

    @strawberry.field(description="The window it waits for (after a transfer or check-in)")
    async def window(self, info: Info) -> Window | None:
        return await _window(info, self._row.window_id)

    @strawberry.field(description="The window that called it")
    async def called_window(self, info: Info) -> Window | None:
        return await _window(info, self._row.called_window_id)

    @strawberry.field(description="The window it was transferred from")
    async def transferred_from(self, info: Info) -> Window | None:
        return await _window(info, self._row.transferred_from)

    @strawberry.field(description="How many will be called before it (while it waits)")
    async def ahead(self, info: Info) -> int | None:
        if self._row.status is not TicketStatus.WAITING:
            return None
        key = (self._level, self._row.org_code, self._row.service_date)
        board: Board = await info.context.loaders.board_by_org.load(key)
        return board.ahead_of(next((t for t in board.tickets if t.id == self._row.id), self._row))

    def authz_target(self) -> Target:
        return Target(
            Resource.TICKET,
            division_code=self._row.division_code,
            owner=self._row.holder_id or "-",
            org_code=self._row.org_code,
        )


@strawberry.type(name="AppointmentSlot", description="预约时段: a window's bookable span")
class AppointmentSlotType:
    id: strawberry.ID = strawberry.field(description="The slot's global ID")
    date: dt.date = strawberry.field(description="The day")
    starts: str = strawberry.field(description="When it begins (HH:MM, China time)")
    ends: str = strawberry.field(description="When it ends (HH:MM, China time)")
    capacity: int = strawberry.field(description="Seats in all")
    booked: int = strawberry.field(description="Seats taken")
    remaining: int = strawberry.field(description="Seats left")
    _row: strawberry.Private[SlotRow]

    @classmethod
    def from_row(cls, level: Level, row: SlotRow) -> AppointmentSlotType:
        return cls(
            id=strawberry.ID(encode_id("AppointmentSlot", row.window_id[:12], row.public_id)),
            date=row.service_date,
            starts=hours.clock_text(row.starts),
            ends=hours.clock_text(row.ends),
            capacity=row.capacity,
            booked=row.booked,
            remaining=max(0, row.capacity - row.booked),
            _row=row,
        )

    @strawberry.field(description="Still bookable: in the future, with a seat left")
    def bookable(self, info: Info) -> bool:
        return self.remaining > 0 and starts_at(self._row) > info.context.clock.now()

    @strawberry.field(description="The window it concerns")
    async def window(self, info: Info) -> Window:
        found = await _window(info, self._row.window_id)
        assert found is not None
        return found


@strawberry.type(name="Appointment", description="预约: one person's booking of a slot")
class AppointmentType:
    id: strawberry.ID = strawberry.field(description="The appointment's global ID")
    status: AppointmentStatus = strawberry.field(description="Booked, checked in or cancelled")
    date: dt.date = strawberry.field(description="The day of the slot")
    starts: str = strawberry.field(description="When the slot begins (HH:MM, China time)")
    ends: str = strawberry.field(description="When the slot ends (HH:MM, China time)")
    basic_code: str | None = strawberry.field(
        description="The matter it is for, when one was named"
    )
    booked_at: dt.datetime = strawberry.field(description="When it was booked")
    checked_in_at: dt.datetime | None = strawberry.field(
        description="When the person checked in (and got a `Y…` ticket)"
    )
    _row: strawberry.Private[AppointmentRow]

    @classmethod
    def from_row(cls, level: Level, row: AppointmentRow, slot: SlotRow) -> AppointmentType:
        return cls(
            id=strawberry.ID(encode_id("Appointment", row.division_code, row.public_id)),
            status=row.status,
            date=row.service_date,
            starts=hours.clock_text(slot.starts),
            ends=hours.clock_text(slot.ends),
            basic_code=row.basic_code,
            booked_at=row.booked_at,
            checked_in_at=row.checked_in_at,
            _row=row,
        )

    @strawberry.field(description="The window it concerns")
    async def window(self, info: Info) -> Window:
        found = await _window(info, self._row.window_id)
        assert found is not None
        return found

    def authz_target(self) -> Target:
        return Target(
            Resource.APPOINTMENT,
            division_code=self._row.division_code,
            owner=self._row.person_id,
            org_code=self._row.org_code,
        )


# -- inputs and payloads ---------------------------------------------------------------


@strawberry.input(description="A ticket for a matter (basicCode), one window, or a kind")
class IssueTicketInput:
    org_code: str = strawberry.field(description="The org's credit code or division code")
    basic_code: str | None = strawberry.field(
        default=None, description="A ticket for this matter (any window that serves it calls it)"
    )
    window_id: strawberry.ID | None = strawberry.field(
        default=None, description="A ticket for this window"
    )
    window_kind: WindowKind | None = strawberry.field(
        default=None, description="A ticket for any window of this kind"
    )
    language: str | None = strawberry.field(
        default=None,
        description="藏汉双语: the language to be served in (zh, bo …); the ticket goes to a "
        "window serving it (LANGUAGE_NOT_SERVED when none does)",
    )


@strawberry.input(description="Call the next ticket at a window")
class CallNextTicketInput:
    window_id: strawberry.ID = strawberry.field(description="The window calling")


@strawberry.input(description="One ticket to act on")
class TicketActionInput:
    ticket_id: strawberry.ID = strawberry.field(description="The ticket's global ID")


@strawberry.input(description="Done at the window, and the case the visit led to")
class FinishTicketInput:
    ticket_id: strawberry.ID = strawberry.field(description="The ticket served")
    case_number: str | None = strawberry.field(default=None, description="The case it led to")


@strawberry.input(description="Send a ticket to another window of the org")
class TransferTicketInput:
    ticket_id: strawberry.ID = strawberry.field(description="The ticket's global ID")
    to_window_id: strawberry.ID = strawberry.field(description="The window it goes to")


@strawberry.input(description="A window whose post the signed-in staff member takes or leaves")
class WindowPostInput:
    window_id: strawberry.ID = strawberry.field(description="The window")


@strawberry.input(description="AB角: usernames of the A and B posts (null: vacant)")
class SetWindowPostsInput:
    window_id: strawberry.ID = strawberry.field(description="The window")
    a_staff: str | None = strawberry.field(
        default=None, description="Username of the A post (null: vacant)"
    )
    b_staff: str | None = strawberry.field(
        default=None, description="Username of the B post (null: vacant)"
    )


@strawberry.input(description="One opening span of a window on a kind of day")
class OpeningSpanInput:
    day_kind: DayKind = strawberry.field(description="WORKDAY, WEEKEND or HOLIDAY")
    opens: str = strawberry.field(description="HH:MM, China time")
    closes: str = strawberry.field(description="HH:MM, China time")
    extended: bool = strawberry.field(
        default=False, description="错时延时 or weekend service, beyond the standard hours"
    )


@strawberry.input(description="A window's hours, replacing its own (empty: standard hours)")
class SetWindowHoursInput:
    window_id: strawberry.ID = strawberry.field(description="The window")
    hours: list[OpeningSpanInput] = strawberry.field(
        description="Its spans (empty: the standard hours)"
    )


@strawberry.input(description="What a window serves; a field left out stays as it is")
class SetWindowServicesInput:
    window_id: strawberry.ID = strawberry.field(description="The window")
    basic_codes: list[str] | None = strawberry.field(
        default=None, description="The matters it serves"
    )
    kiosk_functions: list[KioskFunction] | None = strawberry.field(
        default=None, description="What its kiosks do (self-service windows)"
    )
    queue_prefix: str | None = strawberry.field(
        default=None, description="The letters its tickets start with"
    )


@strawberry.input(description="One bookable span of a window")
class SlotInput:
    starts: str = strawberry.field(description="HH:MM, China time")
    ends: str = strawberry.field(description="HH:MM, China time")
    capacity: int = strawberry.field(description="Seats")


@strawberry.input(description="Bookable slots of a window on one day")
class OpenAppointmentSlotsInput:
    window_id: strawberry.ID = strawberry.field(description="The window")
    date: dt.date = strawberry.field(description="The day")
    slots: list[SlotInput] = strawberry.field(
        description="The spans, within the window's hours that day"
    )


@strawberry.input(description="预约: book a seat of a slot")
class BookAppointmentInput:
    slot_id: strawberry.ID = strawberry.field(description="The slot's global ID")
    basic_code: str | None = strawberry.field(
        default=None, description="The matter it is for (optional)"
    )


@strawberry.input(description="One appointment to act on (cancel, check in)")
class AppointmentActionInput:
    appointment_id: strawberry.ID = strawberry.field(description="The appointment's global ID")


@strawberry.type(description="The ticket as it now stands, or why nothing changed")
class TicketPayload:
    ticket: TicketType | None = strawberry.field(
        default=None, description="The ticket, or null when nothing changed"
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description=("Expected failures with their codes; empty when the mutation took effect"),
    )


@strawberry.type(description="The window as it now stands, or why nothing changed")
class WindowPayload:
    window: Window | None = strawberry.field(
        default=None, description="The window, or null when nothing changed"
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description=("Expected failures with their codes; empty when the mutation took effect"),
    )


@strawberry.type(description="The appointment as it now stands, or why nothing changed")
class AppointmentPayload:
    appointment: AppointmentType | None = strawberry.field(
        default=None, description="The appointment, or null when nothing changed"
    )
    ticket: TicketType | None = strawberry.field(default=None, description="At check-in")
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description=("Expected failures with their codes; empty when the mutation took effect"),
    )


@strawberry.type(description="The slots opened, or why none were")
class AppointmentSlotsPayload:
    slots: list[AppointmentSlotType] = strawberry.field(
        default_factory=list, description="The slots opened"
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description=("Expected failures with their codes; empty when the mutation took effect"),
    )
