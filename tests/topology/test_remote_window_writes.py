"""The queue through the node API: with 榆次区's node a process of its own at an
address, a ticket the hub is asked to issue (``issueTicket``) and to call
(``callNextTicket``) at window A02 is issued and called by that node — its store has
the ticket and both audit events, the hub's own stores stay empty — with the hub's
permission check before it and the node's typed refusals after it; a node that does
not answer, or is stopped, is NODE_UNAVAILABLE naming it, and nothing is written."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import func, select

from gateway.nodes import NodeRegistry
from levels.audit.models import AuditEvent
from levels.cases.service import Actor
from levels.common.enums import Level
from levels.windows import service
from levels.windows.models import QueueTicket
from tests.resolvers.test_global_ids import legacy
from tests.scenarios.desk import at
from tests.scenarios.test_queue import (
    A02,
    A_POST,
    B_POST,
    CALL,
    CANCEL,
    FINISH,
    ISSUE,
    SERVE,
    YUCI_ORG,
    _do,
)
from tests.support.federation import CITY, TAIGU, YUCI, Federation
from tests.support.outages import assert_unavailable, no_answer
from tests.topology.test_remote_reads import calls

W02 = "140702000000W02"
# working days, one per test (the module's nodes keep what each test wrote)
# working days no other module of the session's federation queues at A02 on
DAYS = iter(dt.date(2025, 11, d) for d in (20, 21, 24, 25, 26, 27, 28))


async def _b_on_post(federation: Federation) -> dt.date:
    """Window A02's posts given to A and B and B on post, on a working day of its own,
    written into the node's store as the node's own desk would; the hub's clock then."""
    desk = federation.desk
    for name in (A_POST, B_POST, "resident1", "yuci.reviewer"):
        if name not in desk.viewers:
            await desk.sign_in(name)
    day = next(DAYS)
    a, b = desk.viewers[A_POST], desk.viewers[B_POST]
    admin = Actor(id="yuci.admin", kind="STAFF")
    async with federation.stores[YUCI].sessions.begin() as session:
        await service.set_posts(
            W02,
            service.StaffRef(a.subject, A_POST),
            service.StaffRef(b.subject, B_POST),
            session=session,
            actor=admin,
            now=at(day, 8),
        )
        on_post = Actor(id=b.subject, kind="STAFF", org_code=b.org_code)
        await service.open_post(W02, session=session, actor=on_post, now=at(day, 8))
    await desk.travel(at(day, 9))
    return day


async def _tickets(registry: NodeRegistry, day: dt.date) -> int:
    """Tickets of that day in every store of the registry."""
    total = 0
    for node in registry:
        async with node.sessions() as session:
            stmt = select(func.count()).select_from(QueueTicket)
            total += int(await session.scalar(stmt.where(QueueTicket.service_date == day)) or 0)
    return total


async def _events(registry: NodeRegistry) -> int:
    total = 0
    for node in registry:
        async with node.sessions() as session:
            stmt = select(func.count()).select_from(AuditEvent)
            actions = ("ISSUE_TICKET", "CALL_TICKET")
            total += int(await session.scalar(stmt.where(AuditEvent.action.in_(actions))) or 0)
    return total


async def test_a_ticket_is_issued_and_called_by_yucis_node(federation: Federation) -> None:
    day = await _b_on_post(federation)
    desk = federation.desk
    events = await _events(federation.stores)

    issued = await _do(desk, "resident1", ISSUE, orgCode=YUCI_ORG, windowId=A02)
    called = await _do(desk, B_POST, CALL, windowId=A02)

    assert issued["errors"] == [], issued
    assert called["errors"] == [], called
    assert (called["ticket"]["number"], called["ticket"]["status"]) == ("A001", "CALLED")
    assert called["ticket"]["id"] == issued["ticket"]["id"]
    assert called["ticket"]["calledWindow"] == {"number": "A02"}
    # in 榆次区's store, with both audit events; the hub's own stores: nothing
    async with federation.stores[YUCI].sessions() as session:
        [row] = await session.scalars(select(QueueTicket).where(QueueTicket.service_date == day))
    assert (row.number, row.status.value) == ("A001", "CALLED")
    assert row.holder_id == desk.viewers["resident1"].subject
    assert row.called_by == desk.viewers[B_POST].subject
    assert await _events(federation.stores) == events + 2
    assert await _tickets(federation.hub, day) == 0
    assert await _events(federation.hub) == 0


async def test_a_called_ticket_is_served_and_finished_by_yucis_node(
    federation: Federation,
) -> None:
    day = await _b_on_post(federation)
    desk = federation.desk
    issued = await _do(desk, "resident1", ISSUE, orgCode=YUCI_ORG, windowId=A02)
    ticket = issued["ticket"]["id"]
    assert (await _do(desk, B_POST, CALL, windowId=A02))["errors"] == []

    not_theirs = await _do(desk, "resident1", SERVE, ticketId=ticket)
    cancelled_by_staff = await _do(desk, B_POST, CANCEL, ticketId=ticket)
    served = await _do(desk, B_POST, SERVE, ticketId=ticket)
    finished = await _do(desk, B_POST, FINISH, ticketId=ticket)

    # the hub's checks (the ticket read through the node's API; the node not asked)
    assert [e["code"] for e in not_theirs["errors"]] == ["ROLE_NOT_ALLOWED"]
    assert [e["code"] for e in cancelled_by_staff["errors"]] == ["NOT_THE_HOLDER"]
    assert served["errors"] == [] and served["ticket"]["status"] == "SERVING"
    assert finished["errors"] == [] and finished["ticket"]["status"] == "DONE"
    async with federation.stores[YUCI].sessions() as session:
        [row] = await session.scalars(select(QueueTicket).where(QueueTicket.service_date == day))
    assert row.status.value == "DONE"
    assert await _tickets(federation.hub, day) == 0


async def test_refusals_at_the_node_and_at_the_hub_come_back_typed(
    federation: Federation,
) -> None:
    day = await _b_on_post(federation)
    desk = federation.desk

    empty = await _do(desk, B_POST, CALL, windowId=A02)
    off_post = await _do(desk, "yuci.reviewer", CALL, windowId=A02)
    not_staff = await _do(desk, "resident1", CALL, windowId=A02)

    # the node's rules: nobody waits; a staff member of the org not on the window's post
    assert empty["ticket"] is None
    assert [(e["code"], e["field"]) for e in empty["errors"]] == [
        ("QUEUE_EMPTY", ["input", "windowId"])
    ]
    assert [e["code"] for e in off_post["errors"]] == ["NOT_ON_POST"]
    # the hub's check: a resident calls no tickets (the node is not asked)
    assert not_staff["ticket"] is None
    assert [e["code"] for e in not_staff["errors"]] == ["ROLE_NOT_ALLOWED"]
    assert await _tickets(federation.stores, day) == 0


async def test_a_call_asks_only_the_node_of_the_window(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _b_on_post(federation)
    desk = federation.desk
    assert (await _do(desk, "resident1", ISSUE, orgCode=YUCI_ORG, windowId=A02))["errors"] == []

    with calls(federation, monkeypatch) as counted:
        called = await _do(desk, B_POST, CALL, windowId=A02)

    assert called["errors"] == [], called
    # the window read at 榆次区's node (its id names its org's division) and the call
    # made there: two calls, none to the other nodes holding the county level (seven
    # before, three with the org read too)
    assert counted == Counter(
        {
            (YUCI, "OrgRecords", "WINDOWS"): 1,
            (YUCI, "CallNextTicket", None): 1,
        }
    )


async def test_an_issue_whose_answer_does_not_come_is_named(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = await _b_on_post(federation)
    no_answer(monkeypatch, federation.hub, YUCI, "issue_ticket")
    answer = await federation.desk.ask(
        "resident1", ISSUE, input={"orgCode": YUCI_ORG, "windowId": A02}
    )

    assert_unavailable(answer, YUCI)
    assert await _tickets(federation.stores, day) == 0
    assert await _tickets(federation.hub, day) == 0


async def test_a_ticket_named_by_an_id_of_the_previous_release_is_stepped_at_its_node(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = await _b_on_post(federation)
    desk = federation.desk
    issued = await _do(desk, "resident1", ISSUE, orgCode=YUCI_ORG, windowId=A02)
    assert (await _do(desk, B_POST, CALL, windowId=A02))["errors"] == []
    async with federation.stores[YUCI].sessions() as session:
        [row] = await session.scalars(select(QueueTicket).where(QueueTicket.service_date == day))
    # its number: a row of 榆次区's store alone (the others keep no tickets)
    for other in (CITY, TAIGU):
        async with federation.stores[other].sessions() as session:
            assert await session.get(QueueTicket, row.id) is None
    old = legacy("Ticket", Level.COUNTY, str(row.id))

    with calls(federation, monkeypatch) as counted:
        served = await _do(desk, B_POST, SERVE, ticketId=old)

    assert served["errors"] == [], served
    assert (served["ticket"]["id"], served["ticket"]["status"]) == (
        issued["ticket"]["id"],
        "SERVING",
    )
    # the number asked of every node holding the county level, then the ticket read
    # and stepped at its node by its public key (and the payload's window read there)
    assert counted == Counter(
        {
            (CITY, "PublicIds", "TICKET"): 1,
            (YUCI, "PublicIds", "TICKET"): 1,
            (TAIGU, "PublicIds", "TICKET"): 1,
            (YUCI, "OrgRecords", "TICKETS"): 1,
            (YUCI, "TakeTicketStep", None): 1,
            (YUCI, "OrgRecords", "WINDOWS"): 1,
        }
    )
    async with federation.stores[YUCI].sessions() as session:
        stepped = await session.get(QueueTicket, row.id)
    assert stepped is not None and stepped.status.value == "SERVING"
    assert await _tickets(federation.hub, day) == 0


async def test_a_stopped_node_is_named_and_nothing_is_written(federation: Federation) -> None:
    day = await _b_on_post(federation)
    events = await _events(federation.stores)
    await federation.served[YUCI].stop()

    issued = await federation.desk.ask(
        "resident1", ISSUE, input={"orgCode": YUCI_ORG, "windowId": A02}
    )
    called = await federation.desk.ask(B_POST, CALL, input={"windowId": A02})

    for answer in (issued, called):
        assert_unavailable(answer, YUCI)
    assert await _tickets(federation.stores, day) == 0
    assert await _events(federation.stores) == events
    assert await _tickets(federation.hub, day) == 0
