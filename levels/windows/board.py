"""The hall board of one org on one day: its windows, their setup and hours, and the
day's tickets — read in four statements per store — and what follows from them: who
holds each window now, whether it is open, who may call which ticket, each window's
queue (the waiting list in calling order) and an honest estimate of the wait.

Calling order: tickets checked in from an appointment first (priority), then by the
time they were issued. A transferred ticket keeps its issue time, so it keeps its
place in the line of the window it was sent to (the person already waited once)."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.common.enums import WindowKind
from levels.common.models import Window
from levels.windows import hours
from levels.windows.enums import AT_WINDOW, PostSide, TicketStatus
from levels.windows.models import QueueTicket, WindowHours, WindowSetup

# windows that call tickets: every kind but the self-service kiosks
QUEUEING = frozenset(k for k in WindowKind if k is not WindowKind.SELF_SERVICE)
# windows that receive applications, in the order a matter's ticket prefers them
# (一窗受理: the comprehensive window first)
RECEIVING = (WindowKind.COMPREHENSIVE_RECEPTION, WindowKind.DEPARTMENT)
KIND_LETTER = {
    WindowKind.COMPREHENSIVE_RECEPTION: "A",
    WindowKind.COMPREHENSIVE_OUTPUT: "B",
    WindowKind.CONSULTATION: "C",
    WindowKind.DEPARTMENT: "D",
    WindowKind.SELF_SERVICE: "Z",
    WindowKind.PROXY_STATION: "P",
}
APPOINTMENT_PREFIX = "Y"  # 预约: checked-in appointments are called first


def prefix_of(window: Window, setup: WindowSetup | None) -> str:
    if setup is not None and setup.queue_prefix:
        return setup.queue_prefix
    letters = re.match(r"[A-Z]+", window.number)
    return letters.group(0) if letters else KIND_LETTER[window.kind]


def acting_side(setup: WindowSetup | None) -> PostSide | None:
    """AB角: A while A is on post; B when A is away and B is on post; else nobody."""
    if setup is None:
        return None
    if setup.a_staff_id and setup.a_on_post_since is not None:
        return PostSide.A
    if setup.b_staff_id and setup.b_on_post_since is not None:
        return PostSide.B
    return None


def acting_staff(setup: WindowSetup | None) -> tuple[str, str | None] | None:
    side = acting_side(setup)
    if side is None or setup is None:
        return None
    if side is PostSide.A:
        return (setup.a_staff_id or "", setup.a_staff_name)
    return (setup.b_staff_id or "", setup.b_staff_name)


def serves(
    window: Window, setup: WindowSetup | None, basic_code: str, department: str | None
) -> bool:
    """A window serves the matters it lists; listing none, those of its departments
    (a window of no department receives every matter: 无差别受理)."""
    if window.kind not in RECEIVING:
        return False
    if setup is not None and setup.basic_codes:
        return basic_code in setup.basic_codes
    return not window.department_ids or department in window.department_ids


def can_call(window: Window, setup: WindowSetup | None, ticket: QueueTicket) -> bool:
    if ticket.window_id is not None:
        return ticket.window_id == window.id
    if ticket.window_kind is not window.kind:
        return False
    if ticket.basic_code is None:
        return True
    return serves(window, setup, ticket.basic_code, ticket.department_id)


def calling_order(ticket: QueueTicket) -> tuple[int, dt.datetime, int]:
    return (-ticket.priority, ticket.issued_at, ticket.id)


@dataclass(frozen=True)
class QueueView:
    window: Window
    now_serving: QueueTicket | None
    waiting: list[QueueTicket]
    staffed: bool
    estimated_wait_minutes: int | None


@dataclass
class Board:
    org_code: str
    day: dt.date
    windows: list[Window] = field(default_factory=list)
    setups: dict[str, WindowSetup] = field(default_factory=dict)
    spans: dict[str, list[hours.Span]] = field(default_factory=dict)
    tickets: list[QueueTicket] = field(default_factory=list)

    def window(self, window_id: str) -> Window | None:
        return next((w for w in self.windows if w.id == window_id), None)

    def waiting_for(self, window: Window) -> list[QueueTicket]:
        setup = self.setups.get(window.id)
        found = [
            t
            for t in self.tickets
            if t.status is TicketStatus.WAITING and can_call(window, setup, t)
        ]
        return sorted(found, key=calling_order)

    def at_window(self, window_id: str) -> QueueTicket | None:
        found = [
            t for t in self.tickets if t.called_window_id == window_id and t.status in AT_WINDOW
        ]
        return max(found, key=lambda t: (t.called_at or t.issued_at, t.id)) if found else None

    def _mean_service(self, window_id: str) -> float | None:
        minutes = [
            (t.finished_at - t.called_at).total_seconds() / 60
            for t in self.tickets
            if t.called_window_id == window_id
            and t.status is TicketStatus.DONE
            and t.finished_at is not None
            and t.called_at is not None
        ]
        return sum(minutes) / len(minutes) if minutes else None

    def view(self, window: Window) -> QueueView:
        """The queue of one window. The wait is estimated only from what this window
        served today: its mean service time × the people waiting ÷ the staffed
        windows of its kind; none before it has finished a ticket."""
        waiting = self.waiting_for(window)
        staffed = acting_side(self.setups.get(window.id)) is not None
        mean = self._mean_service(window.id)
        estimate = None
        if mean is not None:
            sharing = sum(
                1
                for w in self.windows
                if w.kind is window.kind and acting_side(self.setups.get(w.id)) is not None
            )
            estimate = round(mean * len(waiting) / max(1, sharing))
        return QueueView(window, self.at_window(window.id), waiting, staffed, estimate)

    def ahead_of(self, ticket: QueueTicket) -> int | None:
        """How many are called before a waiting ticket (at the first window that may
        call it)."""
        if ticket.status is not TicketStatus.WAITING:
            return None
        for window in self.windows:
            if can_call(window, self.setups.get(window.id), ticket):
                line = self.waiting_for(window)
                return next((i for i, t in enumerate(line) if t.id == ticket.id), None)
        return None


async def boards(org_codes: Sequence[str], day: dt.date, *, session: AsyncSession) -> list[Board]:
    """The boards of some orgs of one store on one day (four statements)."""
    found = {code: Board(code, day) for code in org_codes}
    windows = await session.scalars(
        select(Window).where(Window.org_code.in_(org_codes)).order_by(Window.number, Window.id)
    )
    for w in windows:
        found[w.org_code].windows.append(w)
    setups = await session.scalars(select(WindowSetup).where(WindowSetup.org_code.in_(org_codes)))
    for s in setups:
        found[s.org_code].setups[s.window_id] = s
    spans: dict[str, list[hours.Span]] = defaultdict(list)
    rows = await session.scalars(
        select(WindowHours)
        .where(WindowHours.org_code.in_(org_codes))
        .order_by(WindowHours.window_id, WindowHours.day_kind, WindowHours.opens)
    )
    for h in rows:
        spans[h.window_id].append(hours.Span(h.day_kind, h.opens, h.closes, h.extended))
    tickets = await session.scalars(
        select(QueueTicket)
        .where(QueueTicket.org_code.in_(org_codes), QueueTicket.service_date == day)
        .order_by(QueueTicket.id)
    )
    for t in tickets:
        found[t.org_code].tickets.append(t)
    for board in found.values():
        board.spans = {w.id: spans.get(w.id, []) for w in board.windows}
    return list(found.values())


async def board(org_code: str, day: dt.date, *, session: AsyncSession) -> Board:
    return (await boards([org_code], day, session=session))[0]
