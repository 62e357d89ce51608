"""Windows, read: an org's windows and appointment slots, and the viewer's own tickets
and appointments across every store. The window mutations and the hall display are in
``resolvers/windows.py``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from auth.policy import Action, allows
from levels.cases.service import china_date
from levels.common.codes import level_of_division
from levels.common.dates import kept_day
from levels.common.enums import LEVELS, Level
from levels.windows import appointments, mine
from levels.windows.models import Appointment, AppointmentSlot, QueueTicket
from resolvers import remote_lists
from resolvers.fanout import call_api, fan_out
from resolvers.nodeclient import NodeClient
from resolvers.partial import report_unavailable
from resolvers.registry import Node
from resolvers.windows import find_org, window_key
from schema.divisions import Window as WindowType
from schema.info import Info
from schema.windows import AppointmentSlotType, AppointmentType, TicketType

T = TypeVar("T")
MY_LIMIT = 50


async def windows(info: Info, org_code: str) -> list[WindowType]:
    """The windows of an org, in number order (anyone may read them)."""
    level, org = await find_org(info, org_code, ["orgCode"])
    rows = await info.context.loaders.windows_by_org.load((level, org.code))
    return [WindowType.from_row(r) for r in sorted(rows, key=lambda r: (r.number, r.id))]


async def appointment_slots(
    info: Info, org_code: str, date: dt.date, window_id: str | None
) -> list[AppointmentSlotType]:
    kept_day(date, ("date",))
    level, org = await find_org(info, org_code, ["orgCode"])
    key = window_key(window_id, "windowId")[1] if window_id else None
    ctx = info.context
    node = ctx.nodes.owner_at(org.division_code, level)
    timeout = ctx.settings.node_timeout_seconds
    rows: Sequence[AppointmentSlot]
    if node.client is not None:
        rows = await call_api(
            ctx.sessions,
            node,
            lambda c: remote_lists.appointment_slots(c, org.code, date, key),
            timeout,
        )
    else:
        async with node.sessions() as session:
            rows = await appointments.slots_of(org.code, date, key, session=session)
    return [AppointmentSlotType.from_row(level, r) for r in rows]


async def _mine(
    info: Info,
    fetch: Callable[[AsyncSession], Awaitable[Sequence[T]]],
    fetch_api: Callable[[NodeClient], Awaitable[Sequence[T]]],
) -> list[T]:
    """The viewer's rows of every store: a node with an address through its API."""
    ctx = info.context

    async def run(_node: Node, session: AsyncSession) -> Sequence[T]:
        return await fetch(session)

    async def run_api(_node: Node, client: NodeClient) -> Sequence[T]:
        return await fetch_api(client)

    result = await fan_out(
        ctx.sessions, LEVELS, run, timeout=ctx.settings.node_timeout_seconds, remote=run_api
    )
    report_unavailable(info, result.unavailable)
    return [row for found in result.values.values() for row in found]


async def my_tickets(info: Info) -> list[TicketType]:
    """The viewer's tickets of today and the last week, newest first."""
    viewer = info.context.viewer
    since = china_date(info.context.clock.now()) - dt.timedelta(days=7)

    holder = viewer.subject or ""

    async def fetch(session: AsyncSession) -> Sequence[QueueTicket]:
        return await mine.tickets_of(holder, since, MY_LIMIT, session=session)

    async def fetch_api(client: NodeClient) -> Sequence[QueueTicket]:
        return await remote_lists.tickets_of(client, holder, since, MY_LIMIT)

    rows = await _mine(info, fetch, fetch_api)
    found = [TicketType.from_row(r) for r in rows]
    visible = [t for t in found if allows(viewer, Action.READ, t.authz_target())]
    return sorted(visible, key=lambda t: t.issued_at, reverse=True)[:MY_LIMIT]


async def my_appointments(info: Info) -> list[AppointmentType]:
    """The viewer's appointments from today on (and of the last week), soonest first."""
    viewer = info.context.viewer
    since = china_date(info.context.clock.now()) - dt.timedelta(days=7)

    person = viewer.subject or ""

    async def fetch(session: AsyncSession) -> Sequence[tuple[Appointment, AppointmentSlot]]:
        return await mine.appointments_of(person, since, MY_LIMIT, session=session)

    async def fetch_api(client: NodeClient) -> Sequence[tuple[Appointment, AppointmentSlot]]:
        return await remote_lists.appointments_of(client, person, since, MY_LIMIT)

    rows = await _mine(info, fetch, fetch_api)
    found = [
        AppointmentType.from_row(level_of_division(a.division_code) or Level.CITY, a, s)
        for a, s in rows
    ]
    visible = [a for a in found if allows(viewer, Action.READ, a.authz_target())]
    return sorted(visible, key=lambda a: (a.date, a.starts))[:MY_LIMIT]
