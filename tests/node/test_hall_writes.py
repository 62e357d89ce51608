"""A window's setup and appointments written at the node that owns the org
(``changeWindow``, ``takeAppointmentStep``), and its hall board read there
(``hallBoards``), called as the hub calls them: each change by the rules of
``levels/windows`` in the node's own transaction with its audit event in its own chain;
a rule's refusal comes back typed with nothing written; a division the node does not
own is refused."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.audit.models import AuditEvent
from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from levels.windows.board import board
from levels.windows.models import Appointment, AppointmentSlot, WindowHours, WindowSetup
from resolvers import nodewrites, remote
from tests.auth.conftest import own_hub
from tests.node.conftest import MakeClient
from tests.node.test_case_steps import actor
from tests.scenarios.desk import Desk, at
from tests.scenarios.test_queue import A_POST, B_POST, YUCI_ORG

YUCI = "140702000000"  # 榆次区
W02 = f"{YUCI}W02"
# a working day no other test books or queues on (the stores are the session's)
SLOT_DAY = dt.date(2025, 12, 17)
SETUP = ("SET_WINDOW_POSTS", "OPEN_POST", "SET_WINDOW_HOURS")
BOOKING = ("BOOK_APPOINTMENT", "CANCEL_APPOINTMENT", "CHECK_IN_APPOINTMENT", "OPEN_SLOTS")


@pytest.fixture
async def desk(settings: Settings, nodes: NodeRegistry) -> AsyncIterator[Desk]:
    async with own_hub(settings, nodes) as hub:
        d = Desk(hub)
        await d.sign_in("yuci.admin", A_POST, B_POST, "resident1", "resident2")
        await d.travel(at(dt.date(2025, 12, 15), 9))
        yield d


async def _count(nodes: NodeRegistry, model: type, *actions: str) -> int:
    async with nodes[Level.COUNTY].sessions() as session:
        if model is AuditEvent:
            stmt = select(func.count()).select_from(AuditEvent)
            return int(await session.scalar(stmt.where(AuditEvent.action.in_(actions))) or 0)
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def _staff(desk: Desk, name: str) -> dict[str, str]:
    return {"id": desk.viewers[name].subject, "name": name}


async def test_a_windows_posts_and_hours_are_set_at_the_node(
    desk: Desk, nodes: NodeRegistry, node_client: MakeClient
) -> None:
    county, town = node_client("county"), node_client("town")
    now = desk.hub.clock.now()
    admin, b = actor(desk, "yuci.admin"), actor(desk, B_POST)
    before = await _count(nodes, AuditEvent, *SETUP)

    same = await nodewrites.change_window(
        county, W02, "SET_POSTS", actor=admin, now=now,
        given={"a": _staff(desk, A_POST), "b": _staff(desk, A_POST)},
    )  # fmt: skip
    posts = await nodewrites.change_window(
        county, W02, "SET_POSTS", actor=admin, now=now,
        given={"a": _staff(desk, A_POST), "b": _staff(desk, B_POST)},
    )  # fmt: skip
    on_post = await nodewrites.change_window(county, W02, "OPEN_POST", actor=b, now=now)
    spans = [{"dayKind": "WORKDAY", "opens": 540, "closes": 720, "extended": False}]
    hours = await nodewrites.change_window(
        county, W02, "SET_HOURS", actor=admin, now=now, given={"hours": spans}
    )

    # a rule's refusal: typed, nothing written
    assert same["columns"] is None
    assert (same["error"]["code"], same["error"]["field"]) == (
        "SAME_STAFF_ON_BOTH_POSTS",
        ["input", "bStaff"],
    )
    for done in (posts, on_post, hours):
        assert done["error"] is None, done
        assert done["columns"]["window"]["id"] == W02
    async with nodes[Level.COUNTY].sessions() as session:
        setup = await session.get(WindowSetup, W02)
        rows = list(await session.scalars(select(WindowHours).where(WindowHours.window_id == W02)))
    assert setup is not None
    assert (setup.a_staff_id, setup.b_staff_id) == (_staff(desk, A_POST)["id"], b["id"])
    assert setup.b_on_post_since is not None
    assert [(h.opens, h.closes) for h in rows] == [(540, 720)]
    assert await _count(nodes, AuditEvent, *SETUP) == before + 3
    # the board as the hub reads it through the node: the posts and hours just set
    [read] = await remote.hall_boards(county, [YUCI_ORG], now.date())
    async with nodes[Level.COUNTY].sessions() as session:
        own = await board(YUCI_ORG, now.date(), session=session)
    assert [w.id for w in read.windows] == [w.id for w in own.windows]
    assert read.setups[W02].b_staff_id == b["id"]
    assert [(s.opens, s.closes) for s in read.spans[W02]] == [(540, 720)]
    # a change the node does not know, and a window of a division the town node does not own
    with pytest.raises(DomainError) as unknown:
        await nodewrites.change_window(county, W02, "PAINT", actor=admin, now=now)
    assert unknown.value.code is ErrorCode.BAD_USER_INPUT
    with pytest.raises(DomainError) as elsewhere:
        await nodewrites.change_window(town, W02, "OPEN_POST", actor=b, now=now)
    assert elsewhere.value.code is ErrorCode.DIVISION_NOT_OWNED
    # back to the hall's standard hours, nobody on post, for the other tests
    await nodewrites.change_window(county, W02, "SET_HOURS", actor=admin, now=now, given={})
    await nodewrites.change_window(county, W02, "LEAVE_POST", actor=b, now=now)


async def test_a_slot_is_opened_booked_cancelled_and_checked_in_at_the_node(
    desk: Desk, nodes: NodeRegistry, node_client: MakeClient
) -> None:
    county = node_client("county")
    now = desk.hub.clock.now()
    admin, one, two = (actor(desk, n) for n in ("yuci.admin", "resident1", "resident2"))
    slots = [{"starts": 540, "ends": 570, "capacity": 2}]
    given = {"date": SLOT_DAY.isoformat(), "slots": slots}

    opened = await nodewrites.change_window(
        county, W02, "OPEN_SLOTS", actor=admin, now=now, given=given
    )
    [slot] = opened["columns"]["slots"]
    key = slot["public_id"]
    booked = await nodewrites.take_appointment_step(county, key, "BOOK", actor=one, now=now)
    events = await _count(nodes, AuditEvent, *BOOKING)
    twice = await nodewrites.take_appointment_step(county, key, "BOOK", actor=one, now=now)
    other = await nodewrites.take_appointment_step(county, key, "BOOK", actor=two, now=now)
    cancelled = await nodewrites.take_appointment_step(
        county, other["columns"]["appointment"]["public_id"], "CANCEL", actor=two, now=now
    )
    mine = booked["columns"]["appointment"]["public_id"]
    early = await nodewrites.take_appointment_step(
        county, mine, "CHECK_IN", actor=one, now=now, channel="MOBILE"
    )
    checked = await nodewrites.take_appointment_step(
        county, mine, "CHECK_IN", actor=one, now=at(SLOT_DAY, 8) + dt.timedelta(minutes=40),
        channel="MOBILE",
    )  # fmt: skip

    assert opened["error"] is None and slot["capacity"] == 2
    assert booked["error"] is None
    assert booked["columns"]["appointment"]["status"] == "BOOKED"
    assert booked["columns"]["slot"]["booked"] == 1
    assert twice["columns"] is None and twice["error"]["code"] == "ALREADY_BOOKED"
    assert other["columns"]["slot"]["booked"] == 2
    assert cancelled["error"] is None
    assert cancelled["columns"]["appointment"]["status"] == "CANCELLED"
    assert cancelled["columns"]["slot"]["booked"] == 1
    assert early["columns"] is None and early["error"]["code"] == "NOT_CHECK_IN_TIME"
    assert checked["error"] is None, checked
    assert checked["columns"]["appointment"]["status"] == "CHECKED_IN"
    assert (checked["columns"]["ticket"]["number"], checked["columns"]["ticket"]["priority"]) == (
        "Y001",
        1,
    )
    # in the node's store, with an event per step written (the refusals wrote none)
    async with nodes[Level.COUNTY].sessions() as session:
        row = await session.scalar(select(AppointmentSlot).where(AppointmentSlot.public_id == key))
        mine_row = await session.scalar(select(Appointment).where(Appointment.public_id == mine))
    assert row is not None and row.booked == 1
    assert mine_row is not None and mine_row.status.value == "CHECKED_IN"
    assert await _count(nodes, AuditEvent, *BOOKING) == events + 3
    # the appointment as the hub reads it for its check
    [read] = await remote.org_records(county, remote.OrgRecordKind.APPOINTMENTS, [mine])
    assert (read.public_id, read.person_id) == (mine, one["id"])
