"""The queue (取号/叫号): tickets issued for a matter, a window kind or a window;
called by the staff on duty at a window (AB角); served, marked no-show (过号, recalled
once), transferred, or linked to the case they led to.

* Numbers run per org, day and prefix: A001, A002, … (the prefix is the letters of the
  first window that may call the ticket; Y for checked-in appointments).
* A ticket is issued only while a window that may call it is open (working-day
  calendar, the window's hours): ``OUTSIDE_OPENING_HOURS`` otherwise. A person holds
  at most one open ticket per queue at an org.
* Calling, no-show, transfer and finishing are done by the staff member on duty at the
  window: the A post while A is signed in, else the B post; nobody: ``WINDOW_UNSTAFFED``.
  A window calls the next ticket only once the one at it is finished or marked no-show.
* A transferred ticket waits at the window it was sent to, keeping its issue time (and
  so its place by issue time); it is WAITING again, with ``transferred_from`` set.
* A no-show may be recalled once, to the window that called it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from levels.calendar.workdays import WorkCalendar
from levels.cases.models import Case
from levels.cases.service import Actor, china_date
from levels.common.codes import validate_basic_code
from levels.common.enums import MatterStatus, WindowKind
from levels.common.errors import DomainError
from levels.common.models import MatterImplementation, ServiceOrg, Window
from levels.common.sequences import next_value
from levels.windows import hours, languages
from levels.windows.board import (
    APPOINTMENT_PREFIX,
    QUEUEING,
    RECEIVING,
    Board,
    acting_side,
    board,
    prefix_of,
    serves,
)
from levels.windows.enums import (
    AT_WINDOW,
    FINISH_TICKET,
    OPEN_TICKET,
    PostSide,
    TicketChannel,
    TicketStatus,
)
from levels.windows.errors import WindowErrorCode as E
from levels.windows.models import QueueTicket, TicketCounter, WindowSetup
from levels.windows.service import audit, setup_of, window_of


@dataclass(frozen=True)
class TicketRequest:
    """What a ticket is for: a matter (basic code), else one window, else a kind."""

    org: ServiceOrg
    channel: TicketChannel
    holder_id: str | None
    basic_code: str | None = None
    window_id: str | None = None
    window_kind: WindowKind | None = None
    priority: int = 0
    appointment_id: int | None = None
    language: str | None = None  # routed to a window serving in it (藏汉双语)


def _windows_for(request: TicketRequest, day: Board, department: str | None) -> list[Window]:
    """The windows that may call a ticket of ``request``, the preferred one first."""
    if request.window_id is not None:
        window = day.window(request.window_id)
        if window is None:
            raise DomainError(E.WINDOW_NOT_FOUND, field=["input", "windowId"])
        if window.kind not in QUEUEING:
            raise DomainError(E.WINDOW_TAKES_NO_TICKETS, field=["input", "windowId"])
        return [window]
    if request.basic_code is not None:
        code = request.basic_code
        for kind in RECEIVING:
            found = [
                w
                for w in day.windows
                if w.kind is kind and serves(w, day.setups.get(w.id), code, department)
            ]
            if found:
                return found
        raise DomainError(E.MATTER_NOT_SERVED, field=["input", "basicCode"])
    if request.window_kind is None:
        raise DomainError(E.TARGET_REQUIRED, field=["input"])
    if request.window_kind not in QUEUEING:
        raise DomainError(E.WINDOW_TAKES_NO_TICKETS, field=["input", "windowKind"])
    found = [w for w in day.windows if w.kind is request.window_kind]
    if not found:
        raise DomainError(E.MATTER_NOT_SERVED, field=["input", "windowKind"])
    return found


async def _department(session: AsyncSession, org_code: str, basic_code: str) -> str | None:
    impl = await session.scalar(
        select(MatterImplementation).where(
            MatterImplementation.org_code == org_code,
            MatterImplementation.basic_code == basic_code,
            MatterImplementation.status == MatterStatus.PUBLISHED,
        )
    )
    if impl is None:
        raise DomainError(E.MATTER_NOT_SERVED, field=["input", "basicCode"])
    return impl.department_id


async def issue_ticket(
    request: TicketRequest,
    *,
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    calendar: WorkCalendar,
    check_hours: bool = True,
) -> QueueTicket:
    """取号. Refused outside the opening hours of every window that may call it."""
    org = request.org
    today = china_date(now)
    basic_code = department = None
    if request.basic_code is not None and request.window_id is None:
        basic_code = validate_basic_code(request.basic_code.strip(), field=("input", "basicCode"))
        department = await _department(session, org.code, basic_code)
        request = TicketRequest(**{**request.__dict__, "basic_code": basic_code})
    day = await board(org.code, today, session=session)
    windows = _windows_for(request, day, department)
    window_id = request.window_id
    if request.language is not None:
        staff = await languages.staff_map(org.code, session=session)
        field = ["input", "language"]
        windows = languages.serving(windows, day.setups, staff, request.language, field=field)
        is_open = [w for w in windows if hours.open_now(day.spans.get(w.id, []), calendar, now)]
        windows = (is_open or windows)[:1]
        window_id = windows[0].id
    if check_hours and not any(
        hours.open_now(day.spans.get(w.id, []), calendar, now) for w in windows
    ):
        raise DomainError(E.OUTSIDE_OPENING_HOURS, field=["input"])
    kind = windows[0].kind
    if request.holder_id is not None:
        for t in day.tickets:
            same = (t.window_kind, t.basic_code, t.window_id) == (kind, basic_code, window_id)
            if t.holder_id == request.holder_id and t.status in OPEN_TICKET and same:
                raise DomainError(E.ALREADY_IN_QUEUE, field=["input"])
    first = windows[0]
    prefix = APPOINTMENT_PREFIX if request.priority else prefix_of(first, day.setups.get(first.id))
    seq = await next_value(
        session, TicketCounter, org_code=org.code, service_date=today, prefix=prefix
    )
    ticket = QueueTicket(
        org_code=org.code,
        division_code=org.division_code,
        service_date=today,
        number=f"{prefix}{seq:03d}",
        window_kind=kind,
        basic_code=basic_code,
        department_id=department,
        window_id=window_id,
        channel=request.channel,
        holder_id=request.holder_id,
        issued_by=actor.id,
        issued_at=now,
        priority=request.priority,
        status=TicketStatus.WAITING,
        recalls=0,
        appointment_id=request.appointment_id,
        language=request.language,
    )
    session.add(ticket)
    await session.flush()
    await audit(
        session, actor, "ISSUE_TICKET", now, window_id=first.id, after=ticket.number,
        detail={"ticketId": ticket.id, "channel": request.channel.value,
                "basicCode": basic_code, "windowKind": kind.value},
    )  # fmt: skip
    return ticket


def _on_duty(setup: WindowSetup, actor: Actor) -> PostSide:
    """The post the actor holds now at the window; refused unless it is the one on duty."""
    side = acting_side(setup)
    if side is None:
        raise DomainError(E.WINDOW_UNSTAFFED, field=["input", "windowId"])
    on_duty = setup.a_staff_id if side is PostSide.A else setup.b_staff_id
    if on_duty == actor.id:
        return side
    if setup.b_staff_id == actor.id and setup.b_on_post_since is not None:
        raise DomainError(E.A_POST_ON_DUTY, field=["input", "windowId"])
    raise DomainError(E.NOT_ON_POST, field=["input", "windowId"])


async def call_next(
    window_id: str, *, session: AsyncSession, actor: Actor, now: dt.datetime
) -> QueueTicket:
    """叫号: the next ticket this window may call, in calling order."""
    window = await window_of(session, window_id)
    if window.kind not in QUEUEING:
        raise DomainError(E.WINDOW_TAKES_NO_TICKETS, field=["input", "windowId"])
    setup = await setup_of(session, window, now)
    side = _on_duty(setup, actor)
    day = await board(window.org_code, china_date(now), session=session)
    if day.at_window(window.id) is not None:
        raise DomainError(E.WINDOW_BUSY, field=["input", "windowId"])
    for ticket in day.waiting_for(window):
        taken = await session.execute(
            update(QueueTicket)
            .where(QueueTicket.id == ticket.id, QueueTicket.status == TicketStatus.WAITING)
            .values(
                status=TicketStatus.CALLED,
                called_at=now,
                called_window_id=window.id,
                called_by=actor.id,
            )
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            await session.refresh(ticket)
            await audit(
                session, actor, "CALL_TICKET", now, window_id=window.id,
                before=TicketStatus.WAITING.value, after=TicketStatus.CALLED.value,
                detail={"ticketId": ticket.id, "number": ticket.number, "post": side.value},
            )  # fmt: skip
            return ticket
    raise DomainError(E.QUEUE_EMPTY, field=["input", "windowId"])


async def _ticket(session: AsyncSession, ticket_id: int) -> QueueTicket:
    row = await session.get(QueueTicket, ticket_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise DomainError(E.TICKET_NOT_FOUND, field=["input", "ticketId"])
    return row


async def _at_my_window(
    session: AsyncSession, ticket_id: int, actor: Actor, now: dt.datetime, *states: TicketStatus
) -> tuple[QueueTicket, Window]:
    ticket = await _ticket(session, ticket_id)
    if ticket.status not in states or ticket.called_window_id is None:
        raise DomainError(E.INVALID_TICKET_STATE, field=["input", "ticketId"])
    window = await window_of(session, ticket.called_window_id)
    _on_duty(await setup_of(session, window, now), actor)
    return ticket, window


async def _changed(
    session: AsyncSession,
    actor: Actor,
    action: str,
    now: dt.datetime,
    ticket: QueueTicket,
    window_id: str,
    before: TicketStatus,
    **detail: object,
) -> QueueTicket:
    await session.flush()
    await audit(
        session, actor, action, now, window_id=window_id, before=before.value,
        after=ticket.status.value, case_number=ticket.case_number,
        detail={"ticketId": ticket.id, "number": ticket.number, **detail},
    )  # fmt: skip
    return ticket


async def serve(
    ticket_id: int, *, session: AsyncSession, actor: Actor, now: dt.datetime
) -> QueueTicket:
    """The called person is at the window."""
    ticket, window = await _at_my_window(session, ticket_id, actor, now, TicketStatus.CALLED)
    ticket.status = TicketStatus.SERVING
    return await _changed(
        session, actor, "SERVE_TICKET", now, ticket, window.id, TicketStatus.CALLED
    )


async def finish(
    ticket_id: int,
    case_number: str | None,
    *,
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
) -> QueueTicket:
    """办结 at the window; with the number of the case it led to (a case of this org)."""
    ticket, window = await _at_my_window(session, ticket_id, actor, now, *AT_WINDOW)
    if case_number is not None:
        case = await session.get(Case, case_number.strip())
        if case is None or case.org_code != ticket.org_code:
            raise DomainError(E.CASE_NOT_FOUND, field=["input", "caseNumber"])
        ticket.case_number = case.number
    before = ticket.status
    ticket.status, ticket.finished_at = TicketStatus.DONE, now
    return await _changed(session, actor, FINISH_TICKET, now, ticket, window.id, before)


async def no_show(
    ticket_id: int, *, session: AsyncSession, actor: Actor, now: dt.datetime
) -> QueueTicket:
    """过号: called, and nobody came."""
    ticket, window = await _at_my_window(session, ticket_id, actor, now, TicketStatus.CALLED)
    ticket.status, ticket.finished_at = TicketStatus.NO_SHOW, now
    return await _changed(session, actor, "NO_SHOW", now, ticket, window.id, TicketStatus.CALLED)


async def recall(
    ticket_id: int, *, session: AsyncSession, actor: Actor, now: dt.datetime
) -> QueueTicket:
    """A no-show comes back: called again at the same window, once."""
    ticket, window = await _at_my_window(session, ticket_id, actor, now, TicketStatus.NO_SHOW)
    if ticket.recalls >= 1:
        raise DomainError(E.RECALL_LIMIT, field=["input", "ticketId"])
    day = await board(ticket.org_code, ticket.service_date, session=session)
    if day.at_window(window.id) is not None:
        raise DomainError(E.WINDOW_BUSY, field=["input", "ticketId"])
    ticket.status, ticket.finished_at, ticket.called_at = TicketStatus.CALLED, None, now
    ticket.recalls += 1
    return await _changed(
        session, actor, "RECALL_TICKET", now, ticket, window.id, TicketStatus.NO_SHOW
    )


async def transfer(
    ticket_id: int,
    to_window_id: str,
    *,
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
) -> QueueTicket:
    """转窗: the person is sent to another window of the org, keeping their place by
    issue time."""
    ticket, window = await _at_my_window(session, ticket_id, actor, now, *AT_WINDOW)
    target = await session.get(Window, to_window_id)
    if (
        target is None
        or target.org_code != ticket.org_code
        or target.id == window.id
        or target.kind not in QUEUEING
    ):
        raise DomainError(E.TRANSFER_TARGET_INVALID, field=["input", "toWindowId"])
    before = ticket.status
    ticket.status = TicketStatus.WAITING
    ticket.window_id, ticket.window_kind = target.id, target.kind
    ticket.transferred_from = window.id
    ticket.called_at = ticket.called_window_id = ticket.called_by = None
    return await _changed(
        session, actor, "TRANSFER_TICKET", now, ticket, window.id, before, toWindowId=target.id
    )


async def cancel(
    ticket_id: int, *, session: AsyncSession, actor: Actor, now: dt.datetime
) -> QueueTicket:
    """Its holder gives up a waiting ticket."""
    ticket = await _ticket(session, ticket_id)
    if ticket.holder_id != actor.id:
        raise DomainError(E.NOT_THE_HOLDER, field=["input", "ticketId"])
    if ticket.status is not TicketStatus.WAITING:
        raise DomainError(E.INVALID_TICKET_STATE, field=["input", "ticketId"])
    ticket.status, ticket.finished_at = TicketStatus.CANCELLED, now
    await session.flush()
    await audit(
        session, actor, "CANCEL_TICKET", now, window_id=ticket.window_id or "",
        division_code=ticket.division_code, before=TicketStatus.WAITING.value,
        after=ticket.status.value, detail={"ticketId": ticket.id, "number": ticket.number},
    )  # fmt: skip
    return ticket
