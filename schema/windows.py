"""Windows at work in the schema: A/B posts, opening hours, kiosks, the queue state a
hall display shows (ticket numbers only), tickets, appointment slots and appointments."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry

from auth.policy import Resource, Target
from levels.common.enums import Level
from levels.windows import hours
from levels.windows.appointments import starts_at
from levels.windows.board import Board, QueueView, acting_side
from levels.windows.enums import (
    AppointmentStatus,
    DayKind,
    KioskFunction,
    PostSide,
    TicketChannel,
    TicketStatus,
)
from levels.windows.models import Appointment as AppointmentRow
from levels.windows.models import AppointmentSlot as SlotRow
from levels.windows.models import QueueTicket, WindowSetup
from resolvers.globalid import encode_id
from schema.enums import WindowKind
from schema.info import Info
from schema.payloads import UserError

if TYPE_CHECKING:
    from schema.divisions import Window

WindowRef = Annotated["Window", strawberry.lazy("schema.divisions")]

strawberry.enum(DayKind, description="For opening hours: working day, weekend or holiday")
strawberry.enum(PostSide, description="AB角: A holds the window, B takes over when A is away")
strawberry.enum(KioskFunction, description="What a self-service kiosk can do")
strawberry.enum(TicketChannel, description="Where a ticket was taken")
strawberry.enum(TicketStatus)
strawberry.enum(AppointmentStatus)


async def _window(info: Info, window_id: str | None) -> Window | None:
    from schema.divisions import Window

    if window_id is None:
        return None
    row = await info.context.loaders.window_by_id.load(window_id)
    return Window.from_row(row) if row else None


@strawberry.type(description="One post of a window and who holds it")
class Post:
    side: PostSide
    staff_name: str | None = strawberry.field(description="Shown at the window (窗口公示)")
    on_post: bool
    on_post_since: dt.datetime | None


@strawberry.type(description="AB角: the window's two posts and who is on duty now")
class WindowPosts:
    a: Post
    b: Post
    on_duty: PostSide | None = strawberry.field(
        description="A while A is signed in; B when A is away; null: unstaffed"
    )
    staffed: bool

    @classmethod
    def of(cls, setup: WindowSetup | None) -> WindowPosts:
        side = acting_side(setup)
        a_since = setup.a_on_post_since if setup and setup.a_staff_id else None
        b_since = setup.b_on_post_since if setup and setup.b_staff_id else None
        return cls(
            a=Post(
                side=PostSide.A,
                staff_name=setup.a_staff_name if setup else None,
                on_post=a_since is not None,
                on_post_since=a_since,
            ),
            b=Post(
                side=PostSide.B,
                staff_name=setup.b_staff_name if setup else None,
                on_post=b_since is not None,
                on_post_since=b_since,
            ),
            on_duty=side,
            staffed=side is not None,
        )


@strawberry.type(description="An opening span on a kind of day (China time)")
class OpeningSpan:
    day_kind: DayKind
    opens: str = strawberry.field(description='"08:30"')
    closes: str = strawberry.field(description='"17:30"; "24:00" is midnight')
    extended: bool = strawberry.field(description="延时/错时 service (lunch, evening, weekend)")

    @classmethod
    def of(cls, span: hours.Span) -> OpeningSpan:
        return cls(
            day_kind=span.day_kind,
            opens=hours.clock_text(span.opens),
            closes=hours.clock_text(span.closes),
            extended=span.extended,
        )


@strawberry.type(description="A window's queue as a hall display shows it: numbers only")
class QueueState:
    window_id: strawberry.Private[str]
    open: bool = strawberry.field(description="Open now (its hours, today's kind of day)")
    staffed: bool = strawberry.field(description="Someone is on duty on its A or B post")
    now_serving: str | None = strawberry.field(description="The number at the window")
    waiting: list[str] = strawberry.field(description="Numbers waiting, in calling order")
    waiting_count: int
    estimated_wait_minutes: int | None = strawberry.field(
        description="This window's mean service time today × waiting ÷ staffed windows of "
        "its kind; null until it has finished a ticket today"
    )
    updated_at: dt.datetime

    @classmethod
    def of(cls, view: QueueView, is_open: bool, now: dt.datetime) -> QueueState:
        return cls(
            window_id=view.window.id,
            open=is_open,
            staffed=view.staffed,
            now_serving=view.now_serving.number if view.now_serving else None,
            waiting=[t.number for t in view.waiting],
            waiting_count=len(view.waiting),
            estimated_wait_minutes=view.estimated_wait_minutes,
            updated_at=now,
        )

    @strawberry.field
    async def window(self, info: Info) -> WindowRef:
        found = await _window(info, self.window_id)
        assert found is not None
        return found


def level_of_org_row(division_code: str) -> Level:
    from levels.common.codes import level_of_division

    level = level_of_division(division_code)
    assert level is not None
    return level


@strawberry.type(name="Ticket", description="取号: a queue ticket of one day at one org")
class TicketType:
    id: strawberry.ID
    number: str
    status: TicketStatus
    channel: TicketChannel
    service_date: dt.date
    org_code: str
    window_kind: WindowKind
    basic_code: str | None = strawberry.field(description="The matter it was taken for")
    priority: bool = strawberry.field(description="Checked in from an appointment")
    issued_at: dt.datetime
    called_at: dt.datetime | None
    finished_at: dt.datetime | None
    recalls: int
    case_number: str | None = strawberry.field(description="The case it led to")
    _row: strawberry.Private[QueueTicket]
    _level: strawberry.Private[Level]

    @classmethod
    def from_row(cls, row: QueueTicket) -> TicketType:
        level = level_of_org_row(row.division_code)
        return cls(
            id=strawberry.ID(encode_id("Ticket", level, str(row.id))),
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
    async def window(self, info: Info) -> WindowRef | None:
        return await _window(info, self._row.window_id)

    @strawberry.field(description="The window that called it")
    async def called_window(self, info: Info) -> WindowRef | None:
        return await _window(info, self._row.called_window_id)

    @strawberry.field(description="The window it was transferred from")
    async def transferred_from(self, info: Info) -> WindowRef | None:
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
    id: strawberry.ID
    date: dt.date
    starts: str
    ends: str
    capacity: int
    booked: int
    remaining: int
    _row: strawberry.Private[SlotRow]

    @classmethod
    def from_row(cls, level: Level, row: SlotRow) -> AppointmentSlotType:
        return cls(
            id=strawberry.ID(encode_id("AppointmentSlot", level, str(row.id))),
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

    @strawberry.field
    async def window(self, info: Info) -> WindowRef:
        found = await _window(info, self._row.window_id)
        assert found is not None
        return found


@strawberry.type(name="Appointment", description="预约: one person's booking of a slot")
class AppointmentType:
    id: strawberry.ID
    status: AppointmentStatus
    date: dt.date
    starts: str
    ends: str
    basic_code: str | None
    booked_at: dt.datetime
    checked_in_at: dt.datetime | None
    _row: strawberry.Private[AppointmentRow]

    @classmethod
    def from_row(cls, level: Level, row: AppointmentRow, slot: SlotRow) -> AppointmentType:
        return cls(
            id=strawberry.ID(encode_id("Appointment", level, str(row.id))),
            status=row.status,
            date=row.service_date,
            starts=hours.clock_text(slot.starts),
            ends=hours.clock_text(slot.ends),
            basic_code=row.basic_code,
            booked_at=row.booked_at,
            checked_in_at=row.checked_in_at,
            _row=row,
        )

    @strawberry.field
    async def window(self, info: Info) -> WindowRef:
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
    basic_code: str | None = None
    window_id: strawberry.ID | None = None
    window_kind: WindowKind | None = None
    language: str | None = strawberry.field(
        default=None,
        description="藏汉双语: the language to be served in (zh, bo …); the ticket goes to a "
        "window serving it (LANGUAGE_NOT_SERVED when none does)",
    )


@strawberry.input
class CallNextTicketInput:
    window_id: strawberry.ID


@strawberry.input
class TicketActionInput:
    ticket_id: strawberry.ID


@strawberry.input
class FinishTicketInput:
    ticket_id: strawberry.ID
    case_number: str | None = strawberry.field(default=None, description="The case it led to")


@strawberry.input
class TransferTicketInput:
    ticket_id: strawberry.ID
    to_window_id: strawberry.ID


@strawberry.input
class WindowPostInput:
    window_id: strawberry.ID


@strawberry.input(description="AB角: usernames of the A and B posts (null: vacant)")
class SetWindowPostsInput:
    window_id: strawberry.ID
    a_staff: str | None = None
    b_staff: str | None = None


@strawberry.input
class OpeningSpanInput:
    day_kind: DayKind
    opens: str
    closes: str
    extended: bool = False


@strawberry.input(description="A window's hours, replacing its own (empty: standard hours)")
class SetWindowHoursInput:
    window_id: strawberry.ID
    hours: list[OpeningSpanInput]


@strawberry.input(description="What a window serves; a field left out stays as it is")
class SetWindowServicesInput:
    window_id: strawberry.ID
    basic_codes: list[str] | None = None
    kiosk_functions: list[KioskFunction] | None = None
    queue_prefix: str | None = None


@strawberry.input
class SlotInput:
    starts: str
    ends: str
    capacity: int


@strawberry.input
class OpenAppointmentSlotsInput:
    window_id: strawberry.ID
    date: dt.date
    slots: list[SlotInput]


@strawberry.input
class BookAppointmentInput:
    slot_id: strawberry.ID
    basic_code: str | None = None


@strawberry.input
class AppointmentActionInput:
    appointment_id: strawberry.ID


@strawberry.type
class TicketPayload:
    ticket: TicketType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class WindowPayload:
    window: WindowRef | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AppointmentPayload:
    appointment: AppointmentType | None = None
    ticket: TicketType | None = strawberry.field(default=None, description="At check-in")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AppointmentSlotsPayload:
    slots: list[AppointmentSlotType] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)
