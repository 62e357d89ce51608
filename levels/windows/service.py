"""How a window is set up and staffed: its A/B posts (AB角) and who is signed in on
them, the matters it serves, its opening hours and a kiosk's functions. Functions
take ``*, session`` (the store of the window's org), the acting ``Actor`` and the
hub's ``now``; every change is written with its audit event, or not at all.

Who may act is decided before these run (``auth/policy.py``); the rules of the posts
are here: only the two staff named on a window sign in on its posts, a staff member
is signed in at one window at a time, and the A post calls while A is there — B only
when A is away."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from levels.audit.chain import EventDraft, append
from levels.cases.service import Actor
from levels.common.codes import level_of_division, validate_basic_code
from levels.common.enums import WindowKind
from levels.common.errors import DomainError
from levels.common.models import Window
from levels.windows import hours
from levels.windows.enums import KioskFunction, PostSide
from levels.windows.errors import WindowErrorCode as E
from levels.windows.models import WindowHours, WindowSetup


def level_of_window(window_id: str) -> str:
    level = level_of_division(window_id[:12])
    return level.value if level else "UNKNOWN"


async def audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    now: dt.datetime,
    *,
    window_id: str,
    before: str | None = None,
    after: str | None = None,
    case_number: str | None = None,
    division_code: str | None = None,
    detail: dict[str, Any],
) -> None:
    await append(
        EventDraft(
            actor_id=actor.id,
            actor_kind=actor.kind,
            role=actor.role,
            channel=actor.channel,
            org_code=actor.org_code,
            level=level_of_window(division_code or window_id),
            action=action,
            case_number=case_number,
            before=before,
            after=after,
            detail={"windowId": window_id, **detail},
            request_id=actor.request_id,
            # a window's id starts with its division's code
            division_code=division_code or window_id[:12],
        ),
        session=session,
        now=now,
    )


async def window_of(session: AsyncSession, window_id: str, field: str = "windowId") -> Window:
    window = await session.get(Window, window_id)
    if window is None:
        raise DomainError(E.WINDOW_NOT_FOUND, field=["input", field])
    return window


async def setup_of(
    session: AsyncSession, window: Window, now: dt.datetime, *, lock: bool = True
) -> WindowSetup:
    """The window's setup row, made on first use."""
    row = await session.get(WindowSetup, window.id, with_for_update=lock, populate_existing=True)
    if row is None:
        row = WindowSetup(
            window_id=window.id,
            org_code=window.org_code,
            basic_codes=[],
            kiosk_functions=[],
            updated_at=now,
        )
        session.add(row)
        await session.flush()
    return row


@dataclass(frozen=True)
class StaffRef:
    """A staff member of the window's org (read from the identity store)."""

    id: str
    name: str


async def set_posts(
    window_id: str,
    a: StaffRef | None,
    b: StaffRef | None,
    *,
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
) -> WindowSetup:
    """Name the A and B posts of a window. Whoever leaves a post is signed off it."""
    window = await window_of(session, window_id)
    if window.kind is WindowKind.SELF_SERVICE:
        raise DomainError(E.WINDOW_TAKES_NO_TICKETS, field=["input", "windowId"])
    if a is not None and b is not None and a.id == b.id:
        raise DomainError(E.SAME_STAFF_ON_BOTH_POSTS, field=["input", "bStaff"])
    row = await setup_of(session, window, now)
    before = {"a": row.a_staff_id, "b": row.b_staff_id}
    if (a.id if a else None) != row.a_staff_id:
        row.a_on_post_since = None
    if (b.id if b else None) != row.b_staff_id:
        row.b_on_post_since = None
    row.a_staff_id, row.a_staff_name = (a.id, a.name) if a else (None, None)
    row.b_staff_id, row.b_staff_name = (b.id, b.name) if b else (None, None)
    row.updated_at = now
    await session.flush()
    await audit(
        session, actor, "SET_WINDOW_POSTS", now, window_id=window.id,
        detail={"before": before, "after": {"a": row.a_staff_id, "b": row.b_staff_id}},
    )  # fmt: skip
    return row


def side_of(row: WindowSetup, staff_id: str) -> PostSide | None:
    if row.a_staff_id == staff_id:
        return PostSide.A
    if row.b_staff_id == staff_id:
        return PostSide.B
    return None


async def open_post(
    window_id: str, *, session: AsyncSession, actor: Actor, now: dt.datetime
) -> WindowSetup:
    """上岗: the staff member named on the window's A or B post signs in on it, and is
    signed off any other window's post of the org."""
    window = await window_of(session, window_id)
    row = await setup_of(session, window, now)
    side = side_of(row, actor.id)
    if side is None:
        raise DomainError(E.NOT_NAMED_ON_POST, field=["input", "windowId"])
    others = WindowSetup.org_code == window.org_code, WindowSetup.window_id != window.id
    await session.execute(
        update(WindowSetup)
        .where(*others, WindowSetup.a_staff_id == actor.id)
        .values(a_on_post_since=None)
    )
    await session.execute(
        update(WindowSetup)
        .where(*others, WindowSetup.b_staff_id == actor.id)
        .values(b_on_post_since=None)
    )
    if side is PostSide.A:
        row.a_on_post_since = row.a_on_post_since or now
    else:
        row.b_on_post_since = row.b_on_post_since or now
    row.updated_at = now
    await session.flush()
    await audit(session, actor, "OPEN_POST", now, window_id=window.id, after=side.value, detail={})
    return row


async def leave_post(
    window_id: str, *, session: AsyncSession, actor: Actor, now: dt.datetime
) -> WindowSetup:
    """离岗: the staff member signs off the window's post (the other post takes over)."""
    window = await window_of(session, window_id)
    row = await setup_of(session, window, now)
    side = side_of(row, actor.id)
    if side is None:
        raise DomainError(E.NOT_NAMED_ON_POST, field=["input", "windowId"])
    if side is PostSide.A:
        row.a_on_post_since = None
    else:
        row.b_on_post_since = None
    row.updated_at = now
    await session.flush()
    await audit(
        session, actor, "LEAVE_POST", now, window_id=window.id, before=side.value, detail={}
    )
    return row


async def set_hours(
    window_id: str,
    spans: Sequence[hours.Span],
    *,
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
) -> list[hours.Span]:
    """Replace a window's opening hours (none given: the hall's standard hours)."""
    window = await window_of(session, window_id)
    ordered = hours.validate(spans)
    await session.execute(delete(WindowHours).where(WindowHours.window_id == window.id))
    session.add_all(
        WindowHours(
            window_id=window.id,
            org_code=window.org_code,
            day_kind=s.day_kind,
            opens=s.opens,
            closes=s.closes,
            extended=s.extended,
        )
        for s in ordered
    )
    await session.flush()
    text = "; ".join(
        f"{s.day_kind.value} {hours.clock_text(s.opens)}-{hours.clock_text(s.closes)}"
        for s in ordered
    )
    await audit(
        session, actor, "SET_WINDOW_HOURS", now, window_id=window.id, detail={"hours": text}
    )
    return ordered


async def set_services(
    window_id: str,
    basic_codes: Sequence[str] | None,
    kiosk_functions: Sequence[KioskFunction] | None,
    queue_prefix: str | None,
    *,
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
) -> WindowSetup:
    """What a window serves: its matters (basic codes; none: its departments'), a
    kiosk's functions, the letters of its ticket numbers."""
    window = await window_of(session, window_id)
    row = await setup_of(session, window, now)
    if basic_codes is not None:
        codes = [
            validate_basic_code(c.strip(), field=("input", "basicCodes", str(i)))
            for i, c in enumerate(basic_codes)
        ]
        if codes and window.kind not in (
            WindowKind.COMPREHENSIVE_RECEPTION,
            WindowKind.DEPARTMENT,
        ):
            raise DomainError(E.MATTER_NOT_SERVED, field=["input", "basicCodes"])
        row.basic_codes = sorted(set(codes))
    if kiosk_functions is not None:
        if kiosk_functions and window.kind is not WindowKind.SELF_SERVICE:
            raise DomainError(E.WINDOW_TAKES_NO_TICKETS, field=["input", "kioskFunctions"])
        row.kiosk_functions = sorted({f.value for f in kiosk_functions})
    if queue_prefix is not None:
        prefix = queue_prefix.strip().upper()
        if not (1 <= len(prefix) <= 2 and prefix.isascii() and prefix.isalpha()):
            raise DomainError(E.INVALID_QUEUE_PREFIX, field=["input", "queuePrefix"])
        row.queue_prefix = prefix
    row.updated_at = now
    await session.flush()
    await audit(
        session, actor, "SET_WINDOW_SERVICES", now, window_id=window.id,
        detail={"basicCodes": row.basic_codes, "kioskFunctions": row.kiosk_functions,
                "queuePrefix": row.queue_prefix},
    )  # fmt: skip
    return row
