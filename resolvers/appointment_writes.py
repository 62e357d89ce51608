"""Resolvers of appointments (预约): booking a seat of a slot, cancelling, checking in (a
ticket called before the walk-ins). Thin — parse, check the policy table, call
``levels/windows/appointments.py`` in the store of the slot's org, or ask the org's
node (``takeAppointmentStep``, ``levels/node/hall.py``) when the hub reaches it through
its API: the appointment read there for the check, the step taken there."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from auth.policy import Action, Resource, Target, allows
from levels.calendar.workdays import load_calendar
from levels.common.errors import DomainError
from levels.common.models import ServiceOrg
from levels.common.publicids import by_key
from levels.windows import appointments
from levels.windows.errors import WindowErrorCode as E
from levels.windows.models import Appointment, AppointmentSlot, QueueTicket
from resolvers import legacy_ids, window_api
from resolvers.cases import actor_of
from resolvers.globalid import decode_row_key
from resolvers.windows import channel_of, publish_queue_changed, write_at
from schema.info import Info
from schema.payloads import user_errors
from schema.windows import AppointmentPayload, AppointmentType, TicketType

Change = Callable[
    [AsyncSession, ServiceOrg, int], Awaitable[tuple[Appointment, QueueTicket | None]]
]


def _may_book(info: Info, division_code: str) -> None:
    target = Target(Resource.APPOINTMENT, division_code=division_code, owner=None)
    if not allows(info.context.viewer, Action.BOOK_APPOINTMENT, target):
        raise DomainError(E.ROLE_NOT_ALLOWED, field=["input", "slotId"])


async def book_appointment(info: Info, input: Any) -> AppointmentPayload:
    ctx = info.context
    now = ctx.clock.now()
    try:
        level, given = decode_row_key(input.slot_id, "AppointmentSlot", ("input", "slotId"))
        found = await legacy_ids.row_key(info, "AppointmentSlot", level, given, ("input", "slotId"))
        if found is None:  # an ID of the previous release that no node numbers
            raise DomainError(E.SLOT_NOT_FOUND, field=["input", "slotId"])
        sid = found
        basic = input.basic_code.strip() if input.basic_code else None

        async def work(session: AsyncSession) -> tuple[Appointment, AppointmentSlot]:
            slot = await by_key(session, AppointmentSlot, sid)
            if slot is None:
                raise DomainError(E.SLOT_NOT_FOUND, field=["input", "slotId"])
            org = await session.get(ServiceOrg, slot.org_code)
            assert org is not None
            _may_book(info, org.division_code)
            row = await appointments.book(
                slot.id, basic, org=org, session=session, actor=actor_of(info), now=now
            )
            await session.refresh(slot)
            return row, slot

        node = ctx.nodes.owner_at(sid, level) if isinstance(sid, str) else None
        if node is not None and node.client is not None and isinstance(sid, str):
            _may_book(info, sid[:12])  # a slot's public id leads with its org's division
            rows = await window_api.appointment_step(info, node, sid, "BOOK", now, basic_code=basic)
            row, slot = rows["appointment"], rows["slot"]
        else:
            row, slot = await write_at(info, level, sid, work)
    except DomainError as e:
        return AppointmentPayload(errors=user_errors(e, ctx.locale))
    return AppointmentPayload(appointment=AppointmentType.from_row(level, row, slot))


async def _on_appointment(
    info: Info, value: str, step: str, change: Change, **extra: str | None
) -> AppointmentPayload:
    """A step of an appointment (``change`` in its store, or ``step`` asked of its node
    with ``extra``), after the check: an appointment the viewer may not read does not
    exist for them; one not theirs is NOT_THE_HOLDER."""
    ctx = info.context
    now = ctx.clock.now()
    try:
        level, given = decode_row_key(value, "Appointment", ("input", "appointmentId"))
        found = await legacy_ids.row_key(
            info, "Appointment", level, given, ("input", "appointmentId")
        )
        if found is None:  # an ID of the previous release that no node numbers
            raise DomainError(E.APPOINTMENT_NOT_FOUND, field=["input", "appointmentId"])
        aid = found

        def may_change(row: Appointment | None) -> Appointment:
            target = Target(
                Resource.APPOINTMENT,
                division_code=row.division_code if row else None,
                owner=row.person_id if row else None,
                org_code=row.org_code if row else None,
            )
            if row is None or not allows(ctx.viewer, Action.READ, target):
                raise DomainError(E.APPOINTMENT_NOT_FOUND, field=["input", "appointmentId"])
            if not allows(ctx.viewer, Action.BOOK_APPOINTMENT, target):
                raise DomainError(E.NOT_THE_HOLDER, field=["input", "appointmentId"])
            return row

        async def work(
            session: AsyncSession,
        ) -> tuple[Appointment, AppointmentSlot, QueueTicket | None]:
            row = may_change(await by_key(session, Appointment, aid))
            org = await session.get(ServiceOrg, row.org_code)
            assert org is not None
            done, ticket = await change(session, org, row.id)
            slot = await session.get(AppointmentSlot, done.slot_id)
            assert slot is not None
            return done, slot, ticket

        node = ctx.nodes.owner_at(aid, level) if isinstance(aid, str) else None
        if node is not None and node.client is not None and isinstance(aid, str):
            may_change(await window_api.appointment(info, node, aid))
            rows = await window_api.appointment_step(info, node, aid, step, now, **extra)
            row, slot, ticket = rows["appointment"], rows["slot"], rows.get("ticket")
        else:
            row, slot, ticket = await write_at(info, level, aid, work)
    except DomainError as e:
        return AppointmentPayload(errors=user_errors(e, ctx.locale))
    if ticket is not None:
        await publish_queue_changed(info, ticket.org_code)
    return AppointmentPayload(
        appointment=AppointmentType.from_row(level, row, slot),
        ticket=TicketType.from_row(ticket) if ticket else None,
    )


async def cancel_appointment(info: Info, input: Any) -> AppointmentPayload:
    now = info.context.clock.now()

    async def change(
        session: AsyncSession, _org: ServiceOrg, aid: int
    ) -> tuple[Appointment, QueueTicket | None]:
        row = await appointments.cancel(aid, session=session, actor=actor_of(info), now=now)
        return row, None

    return await _on_appointment(info, input.appointment_id, "CANCEL", change)


async def check_in_appointment(info: Info, input: Any) -> AppointmentPayload:
    now = info.context.clock.now()
    channel = channel_of(info)

    async def change(
        session: AsyncSession, org: ServiceOrg, aid: int
    ) -> tuple[Appointment, QueueTicket | None]:
        row, ticket = await appointments.check_in(
            aid, channel, org=org, session=session, actor=actor_of(info), now=now,
            calendar=await load_calendar(session=session),
        )  # fmt: skip
        return row, ticket

    return await _on_appointment(
        info, input.appointment_id, "CHECK_IN", change, channel=channel.value
    )
