"""A window's setup and appointments through the node API: with 榆次区's node a process
of its own at an address, the hub's ``setWindowPosts``, ``openPost``, ``setWindowHours``,
``setWindowServices``, ``openAppointmentSlots``, ``bookAppointment``,
``cancelAppointment`` and ``checkInAppointment`` are written by that node — its store
has the rows and their audit events, the hub's own stores stay empty — and the answers'
posts, hours and queue are read there (``hallBoards``); the node's typed refusals come
back as the same errors; a node that does not answer, or is stopped, is
NODE_UNAVAILABLE naming it, and nothing is written. The node calls are pinned."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from gateway.nodes import NodeRegistry
from levels.audit.models import AuditEvent
from levels.cases.service import Actor
from levels.common.errors import DomainError, ErrorCode
from levels.windows import service
from levels.windows.models import Appointment, AppointmentSlot, WindowHours, WindowSetup
from resolvers import nodewrites
from tests.scenarios.desk import at
from tests.scenarios.test_queue import (
    A02,
    A_POST,
    B_POST,
    BOOK,
    CALL,
    CANCEL_BOOKING,
    CHECK_IN,
    FOLLOW,
    ISSUE,
    OPEN_POST,
    OPEN_SLOTS,
    SET_HOURS,
    SET_POSTS,
    YUCI_ORG,
    _do,
    _mutation,
)
from tests.schema.test_subscriptions import graphql_socket
from tests.support.federation import YUCI, Federation
from tests.support.outages import assert_unavailable
from tests.topology.test_remote_reads import calls

W02 = "140702000000W02"
SET_SERVICES = _mutation(
    "setWindowServices", "SetWindowServicesInput", "window { number matterCodes }"
)
BOARD = """
query($org: String!) {
  windows(orgCode: $org) { number posts { onDuty staffed } hours { opens } queue { waitingCount } }
}"""
HALL_ACTIONS = (
    "SET_WINDOW_POSTS",
    "OPEN_POST",
    "SET_WINDOW_HOURS",
    "SET_WINDOW_SERVICES",
    "OPEN_SLOTS",
    "BOOK_APPOINTMENT",
    "CANCEL_APPOINTMENT",
    "CHECK_IN_APPOINTMENT",
)


async def _count(registry: NodeRegistry, model: type) -> int:
    """Rows of ``model`` (the hall's audit events for ``AuditEvent``) in every store."""
    total = 0
    for node in registry:
        async with node.sessions() as session:
            stmt = select(func.count()).select_from(model)
            if model is AuditEvent:
                stmt = stmt.where(AuditEvent.action.in_(HALL_ACTIONS))
            total += int(await session.scalar(stmt) or 0)
    return total


async def _signed_in(federation: Federation, day: dt.date, hour: int = 9) -> None:
    desk = federation.desk
    for name in ("yuci.admin", A_POST, B_POST, "resident1", "resident2", "resident3"):
        if name not in desk.viewers:
            await desk.sign_in(name)
    await desk.travel(at(day, hour))


def _codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


async def test_a_windows_setup_is_written_by_yucis_node(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _signed_in(federation, dt.date(2025, 11, 3))
    desk = federation.desk
    # A02's posts empty, as the demo leaves them (other modules staff the window)
    async with federation.stores[YUCI].sessions.begin() as session:
        admin = Actor(id="yuci.admin", kind="STAFF")
        await service.set_posts(
            W02, None, None, session=session, actor=admin, now=desk.hub.clock.now()
        )
    events = await _count(federation.stores, AuditEvent)

    with calls(federation, monkeypatch) as counted:
        posts = await _do(desk, "yuci.admin", SET_POSTS, windowId=A02, aStaff=A_POST, bStaff=B_POST)
    on_post = await _do(desk, B_POST, OPEN_POST, windowId=A02)
    spans = [{"dayKind": "WORKDAY", "opens": "08:30", "closes": "12:00"}]
    hours = await _do(desk, "yuci.admin", SET_HOURS, windowId=A02, hours=spans)
    services = await _do(
        desk, "yuci.admin", SET_SERVICES, windowId=A02, basicCodes=["000700400100"]
    )

    assert posts["errors"] == [], posts
    assert posts["window"] == {"number": "A02", "posts": {"onDuty": None, "staffed": False}}
    assert on_post["window"]["posts"] == {"onDuty": "B", "staffed": True}
    assert hours["errors"] == [] and hours["window"]["hours"] == [{"opens": "08:30"}]
    assert services["window"]["matterCodes"] == ["000700400100"]
    # the window read at 榆次区's node, the change made there, the answer's posts read there
    assert counted == Counter(
        {
            (YUCI, "OrgRecords", "WINDOWS"): 1,
            (YUCI, "ChangeWindow", None): 1,
            (YUCI, "HallBoards", None): 1,
        }
    )
    # in 榆次区's store, each with its audit event; the hub's own stores: nothing
    async with federation.stores[YUCI].sessions() as session:
        setup = await session.get(WindowSetup, W02)
        opens = list(
            await session.scalars(select(WindowHours.opens).where(WindowHours.window_id == W02))
        )
    assert setup is not None
    assert setup.a_staff_id == desk.viewers[A_POST].subject
    assert setup.b_staff_id == desk.viewers[B_POST].subject and setup.b_on_post_since is not None
    assert setup.basic_codes == ["000700400100"] and opens == [510]
    assert await _count(federation.stores, AuditEvent) == events + 4
    assert await _count(federation.hub, WindowSetup) == 0
    assert await _count(federation.hub, WindowHours) == 0
    assert await _count(federation.hub, AuditEvent) == 0
    # the hall board through the node: the windows' posts, hours and queues
    board = await desk.hub.gql(BOARD, {"org": YUCI_ORG})
    assert "errors" not in board, board
    by_number = {w["number"]: w for w in board["data"]["windows"]}
    assert by_number["A02"]["posts"] == {"onDuty": "B", "staffed": True}
    assert by_number["A02"]["queue"] == {"waitingCount": 0}


async def test_the_nodes_refusals_and_the_hubs_checks_come_back_typed(
    federation: Federation,
) -> None:
    await _signed_in(federation, dt.date(2025, 11, 4))
    desk = federation.desk
    events = await _count(federation.stores, AuditEvent)

    same = await _do(desk, "yuci.admin", SET_POSTS, windowId=A02, aStaff=A_POST, bStaff=A_POST)
    stranger = await _do(desk, "yuci.admin", SET_POSTS, windowId=A02, aStaff="taigu.reviewer")
    not_admin = await _do(desk, "yuci.reviewer", SET_POSTS, windowId=A02, aStaff=A_POST)
    not_named = await _do(desk, "yuci.admin", OPEN_POST, windowId=A02)

    # the node's rules
    assert _codes(same) == ["SAME_STAFF_ON_BOTH_POSTS"] and same["window"] is None
    assert _codes(not_named) == ["NOT_NAMED_ON_POST"]
    # the hub's: the staff looked for in its identity store; the policy table
    assert _codes(stranger) == ["STAFF_NOT_FOUND"]
    assert _codes(not_admin) == ["ROLE_NOT_ALLOWED"]
    assert await _count(federation.stores, AuditEvent) == events


async def test_appointments_are_booked_and_checked_in_at_yucis_node(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    monday = dt.date(2025, 11, 17)
    await _signed_in(federation, dt.date(2025, 11, 12), 10)
    desk = federation.desk
    slots = [{"starts": "09:00", "ends": "09:30", "capacity": 2}]

    with calls(federation, monkeypatch) as opening:
        opened = await _do(
            desk, "yuci.admin", OPEN_SLOTS, windowId=A02, date=monday.isoformat(), slots=slots
        )
    slot = opened["slots"][0]["id"]
    with calls(federation, monkeypatch) as booking:
        first = await _do(desk, "resident1", BOOK, slotId=slot, basicCode="000700400100")
    second = await _do(desk, "resident2", BOOK, slotId=slot)
    full = await _do(desk, "resident3", BOOK, slotId=slot)
    twice = await _do(desk, "resident1", BOOK, slotId=slot)
    not_theirs = await _do(
        desk, "resident1", CANCEL_BOOKING, appointmentId=second["appointment"]["id"]
    )
    with calls(federation, monkeypatch) as cancelling:
        cancelled = await _do(
            desk, "resident2", CANCEL_BOOKING, appointmentId=second["appointment"]["id"]
        )
    mine = first["appointment"]["id"]
    early = await _do(desk, "resident1", CHECK_IN, appointmentId=mine)
    await desk.travel(at(monday, 8) + dt.timedelta(minutes=40))
    with calls(federation, monkeypatch) as checking_in:
        checked = await _do(desk, "resident1", CHECK_IN, appointmentId=mine)

    assert opened["errors"] == [] and opened["slots"][0]["capacity"] == 2
    assert first["errors"] == [] and first["appointment"]["status"] == "BOOKED"
    assert first["appointment"]["window"] == {"number": "A02"}
    assert second["errors"] == []
    assert _codes(full) == ["SLOT_FULL"] and full["appointment"] is None
    assert _codes(twice) == ["ALREADY_BOOKED"]
    # an appointment another may not read does not exist for them (the hub's check)
    assert _codes(not_theirs) == ["APPOINTMENT_NOT_FOUND"]
    assert cancelled["appointment"]["status"] == "CANCELLED"
    assert _codes(early) == ["NOT_CHECK_IN_TIME"]
    assert checked["errors"] == [], checked
    assert checked["appointment"]["status"] == "CHECKED_IN"
    assert (checked["ticket"]["number"], checked["ticket"]["priority"]) == ("Y001", True)
    # in 榆次区's store; the hub's own stores: nothing
    async with federation.stores[YUCI].sessions() as session:
        on_monday = Appointment.service_date == monday
        rows = list(
            await session.scalars(select(Appointment).where(on_monday).order_by(Appointment.id))
        )
        [seat] = await session.scalars(
            select(AppointmentSlot).where(AppointmentSlot.service_date == monday)
        )
    assert [r.status.value for r in rows] == ["CHECKED_IN", "CANCELLED"]
    assert seat.booked == 1
    assert await _count(federation.hub, Appointment) == 0
    assert await _count(federation.hub, AppointmentSlot) == 0
    # the calls: each to 榆次区's node only
    assert opening == Counter({(YUCI, "OrgRecords", "WINDOWS"): 1, (YUCI, "ChangeWindow", None): 1})
    assert booking == Counter(
        {(YUCI, "TakeAppointmentStep", None): 1, (YUCI, "OrgRecords", "WINDOWS"): 1}
    )
    assert cancelling == Counter(
        {
            (YUCI, "OrgRecords", "APPOINTMENTS"): 1,
            (YUCI, "TakeAppointmentStep", None): 1,
            (YUCI, "OrgRecords", "WINDOWS"): 1,
        }
    )
    assert checking_in == Counter(
        {
            (YUCI, "OrgRecords", "APPOINTMENTS"): 1,
            (YUCI, "TakeAppointmentStep", None): 1,
            (YUCI, "OrgRecords", "WINDOWS"): 1,
            (YUCI, "HallBoards", None): 1,  # the ticket's place in line
        }
    )


async def test_an_issue_by_credit_code_asks_one_node(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _signed_in(federation, dt.date(2025, 11, 5))
    desk = federation.desk

    with calls(federation, monkeypatch) as counted:
        issued = await _do(desk, "resident1", ISSUE, orgCode=YUCI_ORG, windowId=A02)

    assert issued["errors"] == [], issued
    # the org at 榆次区's node alone (its credit code's area), the issue made there, the
    # payload's windows and place in line read there (seven calls before)
    assert {node for node, _op, _kind in counted} == {YUCI}
    assert counted[(YUCI, "Entities", None)] == 1
    assert counted[(YUCI, "IssueTicket", None)] == 1
    assert counted == Counter(
        {
            (YUCI, "Entities", None): 1,
            (YUCI, "IssueTicket", None): 1,
            (YUCI, "OrgRecords", "WINDOWS"): 1,
            (YUCI, "HallBoards", None): 1,
        }
    )


async def test_the_hall_display_follows_the_queue_at_yucis_node(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _signed_in(federation, dt.date(2025, 11, 10))
    desk = federation.desk
    with calls(federation, monkeypatch) as counted:
        async with graphql_socket(desk.hub.app) as socket:
            ack = await socket.init({"Authorization": f"Bearer {desk.tokens['yuci.admin']}"})
            assert ack["type"] == "connection_ack"
            op = await socket.subscribe(FOLLOW, window=A02)
            first = (await socket.next_payload(op))["data"]["windowQueue"]
            await _do(desk, "resident1", ISSUE, orgCode=YUCI_ORG, windowId=A02)
            shown = (await socket.next_payload(op))["data"]["windowQueue"]
            await socket.complete(op)

    assert (first["window"], first["waitingCount"]) == ({"number": "A02"}, 0)
    assert (shown["waiting"], shown["waitingCount"]) == (["A001"], 1)
    # the window and each state's board read at 榆次区's node (the hub's stores are empty)
    assert {node for node, _op, _kind in counted} == {YUCI}
    assert counted[(YUCI, "HallBoards", None)] >= 2


async def test_a_change_whose_answer_does_not_come_is_named(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _signed_in(federation, dt.date(2025, 11, 6))
    events = await _count(federation.stores, AuditEvent)

    async def no_answer(*_args: Any, **_kwargs: Any) -> dict[str, Any]:
        raise DomainError(ErrorCode.NODE_UNAVAILABLE, detail=f"node {YUCI}: no answer")

    monkeypatch.setattr(nodewrites, "change_window", no_answer)
    answer = await federation.desk.ask(
        "yuci.admin", SET_POSTS, input={"windowId": A02, "aStaff": A_POST}
    )

    assert_unavailable(answer, YUCI)
    assert await _count(federation.stores, AuditEvent) == events


async def test_a_stopped_node_is_named_and_nothing_is_written(federation: Federation) -> None:
    await _signed_in(federation, dt.date(2025, 11, 7))
    desk = federation.desk
    slots = [{"starts": "10:00", "ends": "10:30", "capacity": 1}]
    opened = await _do(desk, "yuci.admin", OPEN_SLOTS, windowId=A02, date="2025-11-18", slots=slots)
    booked = await _do(desk, "resident1", BOOK, slotId=opened["slots"][0]["id"])
    events = await _count(federation.stores, AuditEvent)
    appointments = await _count(federation.stores, Appointment)
    await federation.served[YUCI].stop()

    answers = [
        await desk.ask("yuci.admin", SET_POSTS, input={"windowId": A02, "aStaff": A_POST}),
        await desk.ask(B_POST, OPEN_POST, input={"windowId": A02}),
        await desk.ask(
            "yuci.admin",
            OPEN_SLOTS,
            input={"windowId": A02, "date": "2025-11-19", "slots": slots},
        ),
        await desk.ask("resident2", BOOK, input={"slotId": opened["slots"][0]["id"]}),
        await desk.ask(
            "resident1", CANCEL_BOOKING, input={"appointmentId": booked["appointment"]["id"]}
        ),
        await desk.ask("resident1", CHECK_IN, input={"appointmentId": booked["appointment"]["id"]}),
        await desk.ask(B_POST, CALL, input={"windowId": A02}),
    ]

    for answer in answers:
        assert_unavailable(answer, YUCI)
    assert await _count(federation.stores, AuditEvent) == events
    assert await _count(federation.stores, Appointment) == appointments
    assert await _count(federation.hub, Appointment) == 0
    assert await _count(federation.hub, AuditEvent) == 0
