"""Resolvers of windows at work, the queue and appointments: thin — parse, check the
policy table, call ``levels/windows``, wrap the result, and after each committed change
tell the org's hall (``windowQueue`` subscribers) that its queue changed.

Everything of a window lives in the store of its org; the level is read from the
window's id (``<division>W01``), an org code (a division code, or a credit code looked
for in every store) or a ticket's/appointment's global id. At a node the hub reaches
through its API, issuing a ticket and calling the next one are asked of the node
(``resolvers/window_api.py``) after the same permission check here."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.enums import AccountKind, Channel
from auth.errors import AuthErrorCode
from auth.models import Account
from auth.policy import Action, Resource, Target, allows, refusal
from levels.calendar.workdays import load_calendar
from levels.cases.service import china_date
from levels.common.codes import level_of_division, validate_uscc
from levels.common.dates import kept_day
from levels.common.enums import LEVELS, Level
from levels.common.errors import DomainError, ErrorCode
from levels.common.languages import optional_language
from levels.common.models import ServiceOrg, Window
from levels.common.publicids import by_key
from levels.node import hall
from levels.windows import hours, queue, service
from levels.windows.board import QUEUEING
from levels.windows.enums import TicketChannel
from levels.windows.errors import WindowErrorCode as E
from levels.windows.models import QueueTicket
from resolvers import legacy_ids, window_api
from resolvers.cases import actor_of
from resolvers.context import still_signed_in
from resolvers.globalid import decode_id, decode_row_key
from resolvers.loaders import org_nodes
from resolvers.pubsub import DELIVERY_ERRORS
from resolvers.registry import NodeRegistry
from schema.divisions import QueueState
from schema.divisions import Window as WindowType
from schema.info import Info
from schema.payloads import user_errors
from schema.windows import (
    AppointmentSlotsPayload,
    AppointmentSlotType,
    TicketPayload,
    TicketType,
    WindowPayload,
)

log = logging.getLogger("govhub.windows")
T = TypeVar("T")
PUBLISH_SECONDS = 2.0


def queue_channel(org_code: str) -> str:
    return f"queue:{org_code}"


async def publish_queue_changed(info: Info, org_code: str) -> None:
    """Tell the org's hall displays and apps that its queue changed (after commit).
    Best effort, like ``caseUpdated``: the change stands whatever the broker does."""
    try:
        async with asyncio.timeout(PUBLISH_SECONDS):
            await info.context.broker.publish(queue_channel(org_code), org_code)
    except DELIVERY_ERRORS as e:
        log.warning("queue of %s changed, but telling the hall failed: %r", org_code, e)


# -- where things are ------------------------------------------------------------------


def window_key(value: str, field: str = "windowId") -> tuple[Level, str]:
    try:
        gid = decode_id(value)
    except DomainError:
        raise DomainError(ErrorCode.INVALID_ID, field=["input", field]) from None
    if gid.type_name != "Window" or level_of_division(gid.key[:12]) is not gid.level:
        raise DomainError(ErrorCode.INVALID_ID, field=["input", field])
    return gid.level, gid.key


async def find_org(info: Info, org_code: str, field: Sequence[str]) -> tuple[Level, ServiceOrg]:
    """An org by its division code (12 digits) or its credit code (18 characters), with
    its level."""
    ctx = info.context
    code = (org_code or "").strip()
    level = level_of_division(code)
    if level is not None:
        row = await ctx.loaders.service_org_by_division.load(code)
        if row is None:
            raise DomainError(ErrorCode.ORG_NOT_FOUND, field=field)
        return level, row
    credit = validate_uscc(code, field=tuple(field))
    first = _likely_levels(ctx.nodes, credit)
    for batch in (first, [lv for lv in LEVELS if lv not in first]):
        found = await asyncio.gather(
            *(ctx.loaders.service_org_by_code.load((lv, credit)) for lv in batch),
            return_exceptions=True,
        )
        for row in found:
            if row is not None and not isinstance(row, BaseException):  # a Core row (loaders)
                # the org's own level: a node holding several levels finds a town's org
                # when asked at the county's too
                return Level(row.level), row
        for failed in found:
            # a node that did not answer may hold it: not "not found" (NODE_UNAVAILABLE)
            if isinstance(failed, Exception) and not isinstance(failed, DomainError):
                raise failed
    raise DomainError(ErrorCode.ORG_NOT_FOUND, field=field)


def _likely_levels(nodes: NodeRegistry, credit: str) -> list[Level]:
    """The levels an org known by its credit code is first looked for at: that of the
    division its characters 3–8 name (where it registered) and those below it kept by
    the same nodes — one call to the node of a county for a county's, a town's or a
    village's org. Every level when the code names no division."""
    area = level_of_division(credit[2:8] + "000000")
    if area is None:
        return list(LEVELS)
    at = {n.id for n in org_nodes(nodes, credit, area)}
    below = LEVELS[LEVELS.index(area) + 1 :]
    return [area, *(lv for lv in below if {n.id for n in org_nodes(nodes, credit, lv)} <= at)]


def _window_target(window: Window, division_code: str) -> Target:
    return Target(Resource.WINDOW, division_code=division_code, org_code=window.org_code)


def _refuse(info: Info, action: Action, target: Target, field: str) -> DomainError:
    if refusal(info.context.viewer, action, target) == "REACH":
        return DomainError(E.NOT_AT_THIS_ORG, field=["input", field])
    return DomainError(E.ROLE_NOT_ALLOWED, field=["input", field])


async def write_at(
    info: Info, level: Level, where: str | int, work: Callable[[AsyncSession], Awaitable[T]]
) -> T:
    """Run ``work`` in one transaction of the node holding ``where`` at ``level``: a
    window id, a division code or a row's public key (each leads with the division
    that holds the row); a row number of the previous release's IDs names no division,
    so the one node of the level."""
    nodes = info.context.nodes
    node = nodes.owner_at(where, level) if isinstance(where, str) else nodes.single(level)
    async with node.sessions.begin() as session:
        return await work(session)


def channel_of(info: Info) -> TicketChannel:
    viewer = info.context.viewer
    if viewer.kind is AccountKind.STAFF:
        return TicketChannel.COUNTER
    return TicketChannel.KIOSK if viewer.channel is Channel.KIOSK else TicketChannel.MOBILE


# -- window setup and posts ------------------------------------------------------------


Given = Callable[[Window], Awaitable[Mapping[str, Any] | None]]


def _may(info: Info, action: Action, window: Window, division_code: str) -> None:
    target = _window_target(window, division_code)
    if not allows(info.context.viewer, action, target):
        raise _refuse(info, action, target, "windowId")


async def _window_at_node(info: Info, key: str, action: Action) -> Window:
    """Window ``key`` read at its node (``WindowByIdLoader``) and the policy check on it
    (its id leads with its org's division): before a change or a call asked of a node
    the hub reaches through its API."""
    window = await info.context.loaders.window_by_id.load(key)
    if window is None:
        raise DomainError(E.WINDOW_NOT_FOUND, field=["input", "windowId"])
    _may(info, action, window, key[:12])
    return window


async def _no_input(_window: Window) -> None:
    return None


async def _change_window(
    info: Info, window_id: str, action: Action, change: str, given: Given = _no_input
) -> dict[str, Any]:
    """One change of a window (``levels/node/hall.py``: SET_POSTS, OPEN_POST, …) after
    the policy check on the window and its org, with the node's input made from the
    window (``given``): asked of the window's node when the hub reaches it through its
    API (the window read there), else in its store. The rows it left, by name."""
    ctx = info.context
    now = ctx.clock.now()
    level, key = window_key(window_id)
    node = ctx.nodes.owner_at(key, level)
    if node.client is not None:  # the window read at its node, the change made there
        window = await _window_at_node(info, key, action)
        return await window_api.change_window(info, node, key, change, now, await given(window))

    async def work(session: AsyncSession) -> dict[str, Any]:
        window = await service.window_of(session, key)
        org = await session.get(ServiceOrg, window.org_code)
        assert org is not None
        _may(info, action, window, org.division_code)
        run = hall.window_work(key, change, await given(window), actor=actor_of(info), now=now)
        return await run(session)

    return await write_at(info, level, key, work)


async def _on_window(
    info: Info, window_id: str, action: Action, change: str, given: Given = _no_input
) -> WindowPayload:
    try:
        rows = await _change_window(info, window_id, action, change, given)
    except DomainError as e:
        return WindowPayload(errors=user_errors(e, info.context.locale))
    window: Window = rows["window"]
    await publish_queue_changed(info, window.org_code)
    return WindowPayload(window=WindowType.from_row(window))


async def _staff(info: Info, username: str | None, window: Window, field: str) -> Any:
    """The staff member of the window's org named ``username``, from the identity store
    (``{id, name}``, a ``StaffRef`` as it crosses to the node)."""
    if username is None or not username.strip():
        return None
    async with info.context.identity.store.sessions() as session:
        account = await session.scalar(select(Account).where(Account.username == username.strip()))
    if (
        account is None
        or account.kind is not AccountKind.STAFF
        or account.org_code != window.org_code
        or account.disabled
    ):
        raise DomainError(E.STAFF_NOT_FOUND, field=["input", field])
    return {"id": account.id, "name": account.display_name}


async def set_window_posts(info: Info, input: Any) -> WindowPayload:
    async def given(window: Window) -> Mapping[str, Any]:
        a = await _staff(info, input.a_staff, window, "aStaff")
        return {"a": a, "b": await _staff(info, input.b_staff, window, "bStaff")}

    return await _on_window(info, input.window_id, Action.MANAGE_WINDOW, "SET_POSTS", given)


async def open_post(info: Info, input: Any) -> WindowPayload:
    return await _on_window(info, input.window_id, Action.TAKE_POST, "OPEN_POST")


async def leave_post(info: Info, input: Any) -> WindowPayload:
    return await _on_window(info, input.window_id, Action.TAKE_POST, "LEAVE_POST")


async def set_window_hours(info: Info, input: Any) -> WindowPayload:
    async def given(_window: Window) -> Mapping[str, Any]:
        spans = [
            {
                "dayKind": s.day_kind.value,
                "opens": hours.parse_clock(s.opens, ["input", "hours", str(i), "opens"]),
                "closes": hours.parse_clock(s.closes, ["input", "hours", str(i), "closes"]),
                "extended": s.extended,
            }
            for i, s in enumerate(input.hours)
        ]
        return {"hours": spans}

    return await _on_window(info, input.window_id, Action.MANAGE_WINDOW, "SET_HOURS", given)


async def set_window_services(info: Info, input: Any) -> WindowPayload:
    async def given(_window: Window) -> Mapping[str, Any]:
        kiosk = input.kiosk_functions
        return {
            "basicCodes": None if input.basic_codes is None else list(input.basic_codes),
            "kioskFunctions": None if kiosk is None else [f.value for f in kiosk],
            "queuePrefix": input.queue_prefix,
        }

    return await _on_window(info, input.window_id, Action.MANAGE_WINDOW, "SET_SERVICES", given)


async def open_appointment_slots(info: Info, input: Any) -> AppointmentSlotsPayload:
    async def given(_window: Window) -> Mapping[str, Any]:
        kept_day(input.date, ("input", "date"))
        drafts = [
            {
                "starts": hours.parse_clock(s.starts, ["input", "slots", str(i), "starts"]),
                "ends": hours.parse_clock(s.ends, ["input", "slots", str(i), "ends"]),
                "capacity": s.capacity,
            }
            for i, s in enumerate(input.slots)
        ]
        return {"date": input.date.isoformat(), "slots": drafts}

    try:
        rows = await _change_window(
            info, input.window_id, Action.MANAGE_WINDOW, "OPEN_SLOTS", given
        )
    except DomainError as e:
        return AppointmentSlotsPayload(errors=user_errors(e, info.context.locale))
    await publish_queue_changed(info, rows["window"].org_code)
    level = window_key(input.window_id)[0]
    slots = [AppointmentSlotType.from_row(level, s) for s in rows["slots"]]
    return AppointmentSlotsPayload(slots=slots)


# -- tickets ---------------------------------------------------------------------------


async def issue_ticket(info: Info, input: Any) -> TicketPayload:
    ctx = info.context
    viewer = ctx.viewer
    now = ctx.clock.now()
    try:
        level, org = await find_org(info, input.org_code, ["input", "orgCode"])
        target = Target(
            Resource.TICKET, division_code=org.division_code, org_code=org.code, owner=None
        )
        if not allows(viewer, Action.ISSUE_TICKET, target):
            raise _refuse(info, Action.ISSUE_TICKET, target, "orgCode")
        window_id = None
        if input.window_id is not None:
            wl, window_id = window_key(input.window_id)
            if wl is not level:
                raise DomainError(E.WINDOW_NOT_FOUND, field=["input", "windowId"])
        staff = viewer.kind is AccountKind.STAFF
        request = queue.TicketRequest(
            org=org,
            channel=channel_of(info),
            holder_id=None if staff else viewer.subject,
            basic_code=input.basic_code,
            window_id=window_id,
            window_kind=input.window_kind,
            language=optional_language(input.language, ["input", "language"]),
        )

        async def work(session: AsyncSession) -> QueueTicket:
            return await queue.issue_ticket(
                request, session=session, actor=actor_of(info), now=now,
                calendar=await load_calendar(session=session),
            )  # fmt: skip

        node = ctx.nodes.owner_at(org.division_code, level)
        if node.client is not None:  # the node writes it, through its API
            ticket = await window_api.issue_ticket(info, node, request, now)
        else:
            ticket = await write_at(info, level, org.division_code, work)
    except DomainError as e:
        return TicketPayload(errors=user_errors(e, ctx.locale))
    await publish_queue_changed(info, ticket.org_code)
    return TicketPayload(ticket=TicketType.from_row(ticket))


async def call_next_ticket(info: Info, input: Any) -> TicketPayload:
    ctx = info.context
    now = ctx.clock.now()
    try:
        level, key = window_key(input.window_id)

        async def work(session: AsyncSession) -> QueueTicket:
            window = await service.window_of(session, key)
            org = await session.get(ServiceOrg, window.org_code)
            assert org is not None
            _may(info, Action.CALL_TICKET, window, org.division_code)
            return await queue.call_next(key, session=session, actor=actor_of(info), now=now)

        node = ctx.nodes.owner_at(key, level)
        if node.client is not None:  # the window read there, the call made there
            await _window_at_node(info, key, Action.CALL_TICKET)
            ticket = await window_api.call_next(info, node, key, now)
        else:
            ticket = await write_at(info, level, key, work)
    except DomainError as e:
        return TicketPayload(errors=user_errors(e, ctx.locale))
    await publish_queue_changed(info, ticket.org_code)
    return TicketPayload(ticket=TicketType.from_row(ticket))


TicketRun = Callable[..., Awaitable[QueueTicket]]


async def _on_ticket(
    info: Info, value: str, action: Action, run: TicketRun, **extra: Any
) -> TicketPayload:
    """A later step of a ticket (``run``: ``queue.serve`` …, with ``extra``), in the
    ticket's store, or asked of its node when the hub reaches it through its API."""
    ctx = info.context
    now = ctx.clock.now()
    try:
        level, given = decode_row_key(value, "Ticket", ("input", "ticketId"))
        found = await legacy_ids.row_key(info, "Ticket", level, given, ("input", "ticketId"))
        if found is None:  # an ID of the previous release that no node numbers
            raise DomainError(E.TICKET_NOT_FOUND, field=["input", "ticketId"])
        tid = found

        def may_change(row: QueueTicket | None) -> QueueTicket:
            target = TicketType.from_row(row).authz_target() if row is not None else None
            # a ticket the viewer may not read does not exist for them
            if row is None or target is None or not allows(ctx.viewer, Action.READ, target):
                raise DomainError(E.TICKET_NOT_FOUND, field=["input", "ticketId"])
            if action is Action.CALL_TICKET:
                target = Target(
                    Resource.WINDOW, division_code=row.division_code, org_code=row.org_code
                )
            if not allows(ctx.viewer, action, target):
                if action is Action.CANCEL_TICKET:
                    raise DomainError(E.NOT_THE_HOLDER, field=["input", "ticketId"])
                raise _refuse(info, action, target, "ticketId")
            return row

        async def work(session: AsyncSession) -> QueueTicket:
            row = may_change(await by_key(session, QueueTicket, tid))
            return await run(row.id, **extra, session=session, actor=actor_of(info), now=now)

        node = ctx.nodes.owner_at(tid, level) if isinstance(tid, str) else None
        if node is not None and node.client is not None and isinstance(tid, str):
            may_change(await window_api.ticket(info, node, tid))
            step = run.__name__.upper()  # SERVE, FINISH, NO_SHOW … (levels/node/windows.py)
            ticket = await window_api.ticket_step(info, node, tid, step, now, **extra)
        else:
            ticket = await write_at(info, level, tid, work)
    except DomainError as e:
        return TicketPayload(errors=user_errors(e, ctx.locale))
    await publish_queue_changed(info, ticket.org_code)
    return TicketPayload(ticket=TicketType.from_row(ticket))


async def serve_ticket(info: Info, input: Any) -> TicketPayload:
    return await _on_ticket(info, input.ticket_id, Action.CALL_TICKET, queue.serve)


async def finish_ticket(info: Info, input: Any) -> TicketPayload:
    return await _on_ticket(
        info, input.ticket_id, Action.CALL_TICKET, queue.finish, case_number=input.case_number
    )


async def mark_no_show(info: Info, input: Any) -> TicketPayload:
    return await _on_ticket(info, input.ticket_id, Action.CALL_TICKET, queue.no_show)


async def recall_ticket(info: Info, input: Any) -> TicketPayload:
    return await _on_ticket(info, input.ticket_id, Action.CALL_TICKET, queue.recall)


async def transfer_ticket(info: Info, input: Any) -> TicketPayload:
    try:
        _, to_key = window_key(input.to_window_id, "toWindowId")
    except DomainError as e:
        return TicketPayload(errors=user_errors(e, info.context.locale))
    return await _on_ticket(
        info, input.ticket_id, Action.CALL_TICKET, queue.transfer, to_window_id=to_key
    )


async def cancel_ticket(info: Info, input: Any) -> TicketPayload:
    return await _on_ticket(info, input.ticket_id, Action.CANCEL_TICKET, queue.cancel)


# -- the hall display: windowQueue -----------------------------------------------------


async def follow_queue(info: Info, window_id: str) -> AsyncIterator[QueueState]:
    """A window's queue now, then again after each change at its org (numbers only).
    Signed in, like every subscription; the token is checked again before each state."""
    ctx = info.context
    if not ctx.viewer.authenticated:
        raise DomainError(AuthErrorCode.UNAUTHENTICATED)
    try:
        level, key = window_key(window_id, "windowId")
    except DomainError:
        raise DomainError(ErrorCode.INVALID_ID, field=["windowId"]) from None
    window = await ctx.loaders.window_by_id.load(key)  # at its node (its API or store)
    if window is None or window.kind not in QUEUEING:
        raise DomainError(E.WINDOW_NOT_FOUND, field=["windowId"])
    async with ctx.broker.subscribe(queue_channel(window.org_code)) as changes:
        while True:
            await still_signed_in(ctx)
            yield await _queue_state(info, level, window)
            await ctx.forget_reads()
            await anext(changes)
            changes.skip_pending()


async def _queue_state(info: Info, level: Level, window: Window) -> QueueState:
    ctx = info.context
    now = ctx.clock.now()
    # the board at the org's node (its API or store), the calendar of the level
    day = await ctx.loaders.board_by_org.load((level, window.org_code, china_date(now)))
    calendar = await ctx.loaders.calendar_by_level.load((level, window.id[:12]))
    current = day.window(window.id) or window
    is_open = hours.open_now(day.spans.get(window.id, []), calendar, now)
    return QueueState.of(day.view(current), is_open, now)
