"""A hall's lists a node serves the hub, merged into the node's ``Query``
(``schema/node/__init__.py``): an org's appointment slots of a day, and a person's
own tickets and appointments (``myTickets``, ``myAppointments``), each one statement,
the read the hub makes of a store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar, cast

import strawberry
from strawberry.scalars import JSON

from levels.common.reads import table
from levels.common.rowcodec import encode_row
from levels.windows import appointments, mine
from levels.windows.models import Appointment, AppointmentSlot, QueueTicket
from schema.node.types import NodeInfo, Record, records

T = TypeVar("T")
_Account = Annotated[str, strawberry.argument(description="The account")]
_Since = Annotated[dt.date, strawberry.argument(description="The first day")]
_Limit = Annotated[int, strawberry.argument(description="At most this many")]


async def _read(info: NodeInfo, read: Callable[..., Awaitable[T]], *args: Any) -> T:
    """``read(*args)`` in a reading session of the node's store."""
    async with info.context.reading() as session:
        return await read(*args, session=session)


@strawberry.type(name="HallListsQuery", description="A hall's lists")
class HallListQueries:
    @strawberry.field(
        description="The appointment slots of an org (credit code) on a day kept here, "
        "of one window when given, by start then window, every column"
    )
    async def appointment_slots(
        self,
        info: NodeInfo,
        org_code: Annotated[str, strawberry.argument(description="The org's credit code")],
        day: Annotated[dt.date, strawberry.argument(description="The day (China)")],
        window_id: Annotated[
            str | None, strawberry.argument(description="Only this window's")
        ] = None,
    ) -> list[Record]:
        found = await _read(info, appointments.slots_of, org_code, day, window_id)
        return records(AppointmentSlot, found)

    @strawberry.field(
        description="The queue tickets an account holds here of `since` on, newest first "
        "(at most `limit`), every column"
    )
    async def tickets_of(
        self,
        info: NodeInfo,
        holder: _Account,
        since: _Since,
        limit: _Limit,
    ) -> list[Record]:
        return records(QueueTicket, await _read(info, mine.tickets_of, holder, since, limit))

    @strawberry.field(
        description="The appointments an account booked here of `since` on, soonest first "
        "(at most `limit`): `columns` holds `appointment` and its `slot`, every column"
    )
    async def appointments_of(
        self,
        info: NodeInfo,
        person: _Account,
        since: _Since,
        limit: _Limit,
    ) -> list[Record]:
        found = await _read(info, mine.appointments_of, person, since, limit)
        booked, slots = table(Appointment), table(AppointmentSlot)
        return [
            Record(
                columns=cast(
                    JSON, {"appointment": encode_row(booked, a), "slot": encode_row(slots, s)}
                )
            )
            for a, s in found
        ]
