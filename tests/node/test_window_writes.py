"""A hall's queue written at the node that owns the org (``issueTicket``,
``callNextTicket``), called as the hub calls them: the node issues and calls by the
rules of ``levels/windows`` in its own transaction, each with its audit event in its own
chain; a rule's refusal comes back typed with nothing written; a division the node does
not own is refused; and without the hub's token nothing happens."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.audit.chain import verify_division
from levels.audit.models import AuditEvent
from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from levels.node.records import OrgRecordKind
from levels.windows.models import QueueTicket
from resolvers import remote
from tests.auth.conftest import own_hub
from tests.node.conftest import MakeClient
from tests.node.test_case_steps import actor
from tests.scenarios.desk import Desk, at
from tests.scenarios.test_queue import A02, A_POST, B_POST, LEAVE_POST, OPEN_POST, SET_POSTS, _do

YUCI = "140702000000"  # 榆次区
W02 = f"{YUCI}W02"
# working days no other test queues on, one per test (the stores are the session's)
DAYS = iter(dt.date(2025, 12, d) for d in (1, 2, 3, 4, 5, 8, 9, 10, 11, 12))
TOWN = "140702101000"  # a town of 榆次区: the town node's


@pytest.fixture
async def desk(settings: Settings, nodes: NodeRegistry) -> AsyncIterator[Desk]:
    """The 榆次区 admin has given window A02's posts to A and B, and B is on post."""
    async with own_hub(settings, nodes) as hub:
        d = Desk(hub)
        await d.sign_in("yuci.admin", A_POST, B_POST, "resident1")
        done = await _do(d, "yuci.admin", SET_POSTS, windowId=A02, aStaff=A_POST, bStaff=B_POST)
        assert done["errors"] == [], done
        await d.travel(at(next(DAYS), 9))
        assert (await _do(d, B_POST, OPEN_POST, windowId=A02))["errors"] == []
        yield d
        # the stores are the session's: nobody stays on A02's posts for the next test
        await _do(d, B_POST, LEAVE_POST, windowId=A02)


async def _tickets(nodes: NodeRegistry, day: dt.date) -> list[QueueTicket]:
    async with nodes[Level.COUNTY].sessions() as session:
        found = await session.scalars(
            select(QueueTicket)
            .where(QueueTicket.division_code == YUCI, QueueTicket.service_date == day)
            .order_by(QueueTicket.id)
        )
        return list(found)


async def _events(nodes: NodeRegistry, *actions: str) -> list[AuditEvent]:
    async with nodes[Level.COUNTY].sessions() as session:
        found = await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.division_code == YUCI, AuditEvent.action.in_(actions))
            .order_by(AuditEvent.seq)
        )
        return list(found)


async def _count(nodes: NodeRegistry, *actions: str) -> int:
    async with nodes[Level.COUNTY].sessions() as session:
        stmt = select(func.count()).select_from(AuditEvent)
        return int(await session.scalar(stmt.where(AuditEvent.action.in_(actions))) or 0)


async def test_a_ticket_is_issued_and_called_at_the_node_with_its_audit_events(
    desk: Desk, nodes: NodeRegistry, node_client: MakeClient
) -> None:
    county = node_client("county")
    now = desk.hub.clock.now()
    resident = actor(desk, "resident1")

    issued = await county.issue_ticket(
        YUCI, "MOBILE", actor=resident, now=now, holder_id=resident["id"], window_id=W02
    )
    called = await county.call_next_ticket(W02, actor=actor(desk, B_POST), now=now)

    assert issued["error"] is None, issued
    assert issued["columns"]["status"] == "WAITING"
    assert called["error"] is None, called
    assert called["columns"]["id"] == issued["columns"]["id"]
    assert (called["columns"]["number"], called["columns"]["status"]) == ("A001", "CALLED")
    assert called["columns"]["called_by"] == desk.viewers[B_POST].subject
    [row] = await _tickets(nodes, desk.hub.clock.now().date())
    assert (row.number, row.status.value, row.holder_id) == ("A001", "CALLED", resident["id"])
    ticket_events = [
        e
        for e in await _events(nodes, "ISSUE_TICKET", "CALL_TICKET")
        if e.detail.get("ticketId") == row.id
    ]
    assert [(e.action, e.actor_id) for e in ticket_events] == [
        ("ISSUE_TICKET", resident["id"]),
        ("CALL_TICKET", desk.viewers[B_POST].subject),
    ]
    async with nodes[Level.COUNTY].sessions() as session:
        report = await verify_division(session=session, level="COUNTY", division=YUCI)
    assert report.valid, report


async def test_a_called_ticket_is_served_finished_and_read_at_the_node(
    desk: Desk, nodes: NodeRegistry, node_client: MakeClient
) -> None:
    county = node_client("county")
    now = desk.hub.clock.now()
    resident, b = actor(desk, "resident1"), actor(desk, B_POST)
    issued = await county.issue_ticket(
        YUCI, "MOBILE", actor=resident, now=now, holder_id=resident["id"], window_id=W02
    )
    key = issued["columns"]["public_id"]
    assert (await county.call_next_ticket(W02, actor=b, now=now))["error"] is None

    early = await county.take_ticket_step(key, "CANCEL", actor=resident, now=now)
    served = await county.take_ticket_step(key, "SERVE", actor=b, now=now)
    done = await county.take_ticket_step(key, "FINISH", actor=b, now=now)
    [read] = await remote.org_records(county, OrgRecordKind.TICKETS, [key])

    # a called ticket is no longer its holder's to cancel (the node's rule)
    assert early["columns"] is None and early["error"]["code"] == "INVALID_TICKET_STATE"
    assert served["error"] is None and served["columns"]["status"] == "SERVING"
    assert done["error"] is None and done["columns"]["status"] == "DONE"
    assert (read.public_id, read.status.value) == (key, "DONE")
    [row] = await _tickets(nodes, desk.hub.clock.now().date())
    assert row.status.value == "DONE"
    actions = [
        e.action
        for e in await _events(nodes, "SERVE_TICKET", "FINISH_TICKET", "CANCEL_TICKET")
        if e.detail.get("ticketId") == row.id
    ]
    assert actions == ["SERVE_TICKET", "FINISH_TICKET"]
    with pytest.raises(DomainError) as elsewhere:
        await node_client("town").take_ticket_step(key, "SERVE", actor=b, now=now)
    assert elsewhere.value.code is ErrorCode.DIVISION_NOT_OWNED


async def test_refusals_of_the_rules_come_back_typed_and_write_nothing(
    desk: Desk, nodes: NodeRegistry, node_client: MakeClient
) -> None:
    county = node_client("county")
    now = desk.hub.clock.now()
    before = await _count(nodes, "ISSUE_TICKET", "CALL_TICKET")

    empty = await county.call_next_ticket(W02, actor=actor(desk, B_POST), now=now)
    off_post = await county.call_next_ticket(W02, actor=actor(desk, A_POST), now=now)
    closed = await county.issue_ticket(
        YUCI,
        "COUNTER",
        actor=actor(desk, A_POST),
        now=at(desk.hub.clock.now().date(), 23),
        window_id=W02,
    )

    assert empty["columns"] is None
    assert (empty["error"]["code"], empty["error"]["field"]) == (
        "QUEUE_EMPTY",
        ["input", "windowId"],
    )
    assert off_post["columns"] is None and off_post["error"]["code"] == "NOT_ON_POST"
    assert closed["columns"] is None and closed["error"]["code"] == "OUTSIDE_OPENING_HOURS"
    assert await _tickets(nodes, desk.hub.clock.now().date()) == []
    assert await _count(nodes, "ISSUE_TICKET", "CALL_TICKET") == before


async def test_a_division_the_node_does_not_own_is_refused(
    desk: Desk, nodes: NodeRegistry, node_client: MakeClient
) -> None:
    town = node_client("town")
    now = desk.hub.clock.now()

    with pytest.raises(DomainError) as issuing:
        await town.issue_ticket(YUCI, "MOBILE", actor=actor(desk, "resident1"), now=now)
    with pytest.raises(DomainError) as calling:
        await town.call_next_ticket(W02, actor=actor(desk, B_POST), now=now)
    with pytest.raises(DomainError) as county_for_a_town:
        await node_client("county").issue_ticket(
            TOWN, "MOBILE", actor=actor(desk, "resident1"), now=now
        )

    assert issuing.value.code is ErrorCode.DIVISION_NOT_OWNED
    assert issuing.value.field == ["divisionCode"]
    assert calling.value.code is ErrorCode.DIVISION_NOT_OWNED
    assert calling.value.field == ["windowId"]
    assert county_for_a_town.value.code is ErrorCode.DIVISION_NOT_OWNED
    assert await _tickets(nodes, desk.hub.clock.now().date()) == []


async def test_a_bad_channel_is_refused_as_bad_user_input(
    desk: Desk, nodes: NodeRegistry, node_client: MakeClient
) -> None:
    with pytest.raises(DomainError) as refused:
        await node_client("county").issue_ticket(
            YUCI, "CARRIER_PIGEON", actor=actor(desk, "resident1"), now=desk.hub.clock.now()
        )

    assert (refused.value.code, refused.value.field) == (ErrorCode.BAD_USER_INPUT, ["channel"])
    assert await _tickets(nodes, desk.hub.clock.now().date()) == []


async def test_without_the_hubs_token_no_ticket_is_issued(
    desk: Desk, nodes: NodeRegistry, node_apps: dict[str, Any]
) -> None:
    document = """mutation($actor: ActorInput!, $now: DateTime!) {
      issueTicket(divisionCode: "140702000000", channel: "MOBILE", actor: $actor, now: $now,
                  windowId: "140702000000W02") { columns }
    }"""
    variables = {
        "actor": {"id": "someone", "kind": "RESIDENT"},
        "now": desk.hub.clock.now().isoformat(),
    }
    transport = httpx.ASGITransport(app=node_apps["county"])
    async with httpx.AsyncClient(transport=transport, base_url="http://county.test") as http:
        response = await http.post("/graphql", json={"query": document, "variables": variables})

    assert response.status_code == 401
    assert await _tickets(nodes, desk.hub.clock.now().date()) == []
