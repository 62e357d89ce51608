"""A window's setup and appointments written at the node that owns the org (DESIGN §2,
"A node is a service"), as the queue's tickets are (``levels/node/windows.py``): naming
a window's A and B posts, taking and leaving a post, its hours, what it serves, its
languages and those of its staff, its appointment slots; booking, cancelling and
checking in an appointment — by the rules of ``levels/windows`` in the node's own
transaction, each with its audit event in the node's chain, together or not at all.

Who may do it is the hub's check (the policy table, over the rows it read through the
node's API); the staff named on a post are the hub's to find (its identity store) and
come as ``StaffRef``s. A rule's refusal comes back in the outcome, typed, with nothing
written. The outcome's rows are named: ``window`` and ``slots`` for a window's change,
``appointment``, ``slot`` and ``ticket`` for an appointment's step."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from levels.calendar.workdays import load_calendar
from levels.cases.service import Actor
from levels.common.errors import DomainError, ErrorCode
from levels.common.models import ServiceOrg
from levels.common.publicids import by_key
from levels.node.scope import NodeScope
from levels.node.windows import Outcome, checked, enum_value, in_transaction
from levels.windows import appointments, hours, languages, service
from levels.windows.enums import DayKind, KioskFunction, TicketChannel
from levels.windows.errors import WindowErrorCode
from levels.windows.models import Appointment, AppointmentSlot

Rows = dict[str, Any]
Given = Mapping[str, Any]


def _bad(field: str, value: object = None) -> DomainError:
    return DomainError(ErrorCode.BAD_USER_INPUT, field=["input", field], detail=str(value)[:50])


def _staff(given: Given, side: str) -> service.StaffRef | None:
    value = given.get(side)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _bad(side, value)
    staff_id, name = value.get("id"), value.get("name")
    if not isinstance(staff_id, str) or not isinstance(name, str):
        raise _bad(side, value)
    return service.StaffRef(staff_id, name)


def _int(item: Mapping[str, Any], name: str, field: str) -> int:
    value = item.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _bad(field, value)
    return value


def _items(given: Given, name: str) -> list[Mapping[str, Any]]:
    found = given.get(name)
    if not isinstance(found, list) or not all(isinstance(i, Mapping) for i in found):
        raise _bad(name, found)
    return found


def _spans(given: Given) -> list[hours.Span]:
    return [
        hours.Span(
            enum_value(DayKind, str(s.get("dayKind")), "dayKind"),
            _int(s, "opens", "hours"),
            _int(s, "closes", "hours"),
            bool(s.get("extended")),
        )
        for s in _items(given, "hours")
    ]


def _codes(given: Given, name: str) -> list[str] | None:
    found = given.get(name)
    if found is None:
        return None
    if not isinstance(found, list) or not all(isinstance(c, str) for c in found):
        raise _bad(name, found)
    return found


Change = Callable[[AsyncSession, str, Given, Actor, dt.datetime], Awaitable[Rows]]


async def _set_posts(
    s: AsyncSession, key: str, given: Given, actor: Actor, now: dt.datetime
) -> Rows:
    a, b = _staff(given, "a"), _staff(given, "b")
    await service.set_posts(key, a, b, session=s, actor=actor, now=now)
    return {}


async def _open_post(s: AsyncSession, key: str, _g: Given, actor: Actor, now: dt.datetime) -> Rows:
    await service.open_post(key, session=s, actor=actor, now=now)
    return {}


async def _leave_post(s: AsyncSession, key: str, _g: Given, actor: Actor, now: dt.datetime) -> Rows:
    await service.leave_post(key, session=s, actor=actor, now=now)
    return {}


async def _set_hours(
    s: AsyncSession, key: str, given: Given, actor: Actor, now: dt.datetime
) -> Rows:
    await service.set_hours(key, _spans(given), session=s, actor=actor, now=now)
    return {}


async def _set_services(
    s: AsyncSession, key: str, given: Given, actor: Actor, now: dt.datetime
) -> Rows:
    kiosk = _codes(given, "kioskFunctions")
    prefix = given.get("queuePrefix")
    if prefix is not None and not isinstance(prefix, str):
        raise _bad("queuePrefix", prefix)
    await service.set_services(
        key,
        _codes(given, "basicCodes"),
        None if kiosk is None else [enum_value(KioskFunction, f, "kioskFunctions") for f in kiosk],
        prefix,
        session=s,
        actor=actor,
        now=now,
    )
    return {}


async def _open_slots(
    s: AsyncSession, key: str, given: Given, actor: Actor, now: dt.datetime
) -> Rows:
    try:
        day = dt.date.fromisoformat(str(given.get("date")))
    except ValueError:
        raise _bad("date", given.get("date")) from None
    drafts = [
        appointments.SlotDraft(
            _int(d, "starts", "slots"), _int(d, "ends", "slots"), _int(d, "capacity", "slots")
        )
        for d in _items(given, "slots")
    ]
    opened = await appointments.open_slots(
        key, day, drafts, session=s, actor=actor, now=now, calendar=await load_calendar(session=s)
    )
    return {"slots": opened}


async def _set_languages(
    s: AsyncSession, key: str, given: Given, actor: Actor, now: dt.datetime
) -> Rows:
    codes = _codes(given, "languages") or []
    await languages.set_window_languages(key, codes, session=s, actor=actor, now=now)
    return {}


async def _set_staff_languages(
    s: AsyncSession, key: str, given: Given, actor: Actor, now: dt.datetime
) -> Rows:
    staff = _staff(given, "staff")
    if staff is None:
        raise DomainError(WindowErrorCode.STAFF_NOT_FOUND, field=["input", "staff"])
    codes = _codes(given, "languages") or []
    window = await service.window_of(s, key)
    await languages.set_staff_languages(window, staff, codes, session=s, actor=actor, now=now)
    return {}


# a window's changes, by name, as the hub asks for them
WINDOW_CHANGES: dict[str, Change] = {
    "SET_POSTS": _set_posts,
    "OPEN_POST": _open_post,
    "LEAVE_POST": _leave_post,
    "SET_HOURS": _set_hours,
    "SET_SERVICES": _set_services,
    "OPEN_SLOTS": _open_slots,
    "SET_LANGUAGES": _set_languages,
    "SET_STAFF_LANGUAGES": _set_staff_languages,
}


def window_work(
    window_id: str, change: str, given: Given | None, *, actor: Actor, now: dt.datetime
) -> Callable[[AsyncSession], Awaitable[Rows]]:
    """One change of window ``window_id`` in a session: the window as it then stands
    (``window``) and, opening slots, the slots (``slots``). The node's and the hub's
    in-process path alike."""
    run = WINDOW_CHANGES.get(change)
    if run is None:
        raise DomainError(ErrorCode.BAD_USER_INPUT, field=["change"], detail=change[:50])
    values: Given = given or {}

    async def work(session: AsyncSession) -> Rows:
        done = await run(session, window_id, values, actor, now)
        return {"window": await service.window_of(session, window_id), **done}

    return work


async def change_window(
    sessions: async_sessionmaker[AsyncSession],
    scope: NodeScope,
    window_id: str,
    change: str,
    given: Given | None,
    *,
    actor: Actor,
    now: dt.datetime,
) -> Outcome[Rows]:
    """One change of window ``window_id`` (its id leads with its division, which this
    node must own), in the node's transaction (``window_work``)."""
    scope.require(window_id[:12], field="windowId")
    checked(now)
    work = window_work(window_id, change, given, actor=actor, now=now)
    return await in_transaction(sessions, work)


async def _org(session: AsyncSession, code: str) -> ServiceOrg:
    org = await session.get(ServiceOrg, code)
    assert org is not None
    return org


async def take_appointment_step(
    sessions: async_sessionmaker[AsyncSession],
    scope: NodeScope,
    key: str,
    step: str,
    *,
    actor: Actor,
    now: dt.datetime,
    basic_code: str | None = None,
    channel: str | None = None,
) -> Outcome[Rows]:
    """``BOOK`` a seat of slot ``key``, or ``CANCEL`` or ``CHECK_IN`` (by ``channel``)
    appointment ``key`` (public ids, which lead with their division, which this node
    must own): the appointment, its slot and, checked in, its ticket."""
    scope.require(key[:12], field="key")
    checked(now)
    if step not in ("BOOK", "CANCEL", "CHECK_IN"):
        raise DomainError(ErrorCode.BAD_USER_INPUT, field=["step"], detail=step[:50])
    how = None if channel is None else enum_value(TicketChannel, channel, "channel")
    if step == "CHECK_IN" and how is None:
        raise DomainError(ErrorCode.BAD_USER_INPUT, field=["channel"])

    async def work(session: AsyncSession) -> Rows:
        if step == "BOOK":
            slot = await by_key(session, AppointmentSlot, key)
            if slot is None:
                raise DomainError(WindowErrorCode.SLOT_NOT_FOUND, field=["input", "slotId"])
            org = await _org(session, slot.org_code)
            row = await appointments.book(
                slot.id, basic_code, org=org, session=session, actor=actor, now=now
            )
            await session.refresh(slot)
            return {"appointment": row, "slot": slot}
        found = await by_key(session, Appointment, key)
        if found is None:
            raise DomainError(
                WindowErrorCode.APPOINTMENT_NOT_FOUND, field=["input", "appointmentId"]
            )
        rows: Rows = {}
        if step == "CANCEL":
            row = await appointments.cancel(found.id, session=session, actor=actor, now=now)
        else:
            assert how is not None
            row, rows["ticket"] = await appointments.check_in(
                found.id, how, org=await _org(session, found.org_code), session=session,
                actor=actor, now=now, calendar=await load_calendar(session=session),
            )  # fmt: skip
        slot = await session.get(AppointmentSlot, row.slot_id)
        return {"appointment": row, "slot": slot, **rows}

    return await in_transaction(sessions, work)
