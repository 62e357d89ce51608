"""Windows, read: an org's windows and appointment slots, and the viewer's own tickets
and appointments across every store. The window mutations and the hall display are in
``resolvers/windows.py``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.policy import Action, allows
from levels.cases.service import china_date
from levels.common.codes import level_of_division
from levels.common.dates import kept_day
from levels.common.enums import LEVELS, Level
from levels.windows import appointments
from levels.windows.models import Appointment, AppointmentSlot, QueueTicket
from resolvers.fanout import fan_out
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
    async with info.context.nodes.owner_at(org.division_code, level).sessions() as session:
        rows = await appointments.slots_of(org.code, date, key, session=session)
    return [AppointmentSlotType.from_row(level, r) for r in rows]


async def _mine(info: Info, fetch: Callable[[AsyncSession], Awaitable[Sequence[T]]]) -> list[T]:
    ctx = info.context

    async def run(_node: Node, session: AsyncSession) -> Sequence[T]:
        return await fetch(session)

    result = await fan_out(ctx.sessions, LEVELS, run, timeout=ctx.settings.node_timeout_seconds)
    report_unavailable(info, result.unavailable)
    return [row for found in result.values.values() for row in found]


async def my_tickets(info: Info) -> list[TicketType]:
    """The viewer's tickets of today and the last week, newest first."""
    viewer = info.context.viewer
    since = china_date(info.context.clock.now()) - dt.timedelta(days=7)

    async def fetch(session: AsyncSession) -> Sequence[QueueTicket]:
        stmt = (
            select(QueueTicket)
            .where(QueueTicket.holder_id == viewer.subject, QueueTicket.service_date >= since)
            .order_by(QueueTicket.issued_at.desc())
            .limit(MY_LIMIT)
        )
        return (await session.scalars(stmt)).all()

    rows = await _mine(info, fetch)
    found = [TicketType.from_row(r) for r in rows]
    visible = [t for t in found if allows(viewer, Action.READ, t.authz_target())]
    return sorted(visible, key=lambda t: t.issued_at, reverse=True)[:MY_LIMIT]


async def my_appointments(info: Info) -> list[AppointmentType]:
    """The viewer's appointments from today on (and of the last week), soonest first."""
    viewer = info.context.viewer
    since = china_date(info.context.clock.now()) - dt.timedelta(days=7)

    async def fetch(session: AsyncSession) -> Sequence[tuple[Appointment, AppointmentSlot]]:
        stmt = (
            select(Appointment, AppointmentSlot)
            .join(AppointmentSlot, AppointmentSlot.id == Appointment.slot_id)
            .where(Appointment.person_id == viewer.subject, Appointment.service_date >= since)
            .order_by(Appointment.service_date, AppointmentSlot.starts)
            .limit(MY_LIMIT)
        )
        return [(a, s) for a, s in (await session.execute(stmt)).all()]

    rows = await _mine(info, fetch)
    found = [
        AppointmentType.from_row(level_of_division(a.division_code) or Level.CITY, a, s)
        for a, s in rows
    ]
    visible = [a for a in found if allows(viewer, Action.READ, a.authz_target())]
    return sorted(visible, key=lambda a: (a.date, a.starts))[:MY_LIMIT]
