"""The per-county topology for the writes that once picked a node by level: a window's
posts and its queue, a rating and a complaint, each written into the database of the
node owning the division (榆次区: county-140702) and nowhere else; ``govhub audit
verify`` and ``--node``/``--level`` walking the nodes of the map (DESIGN §2, Nodes)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from click.testing import CliRunner, Result
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from gateway.cli import main
from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.common.clock import FixedClock
from levels.evaluations.models import Complaint, Evaluation
from levels.licences.enums import LicenceStatus
from levels.licences.models import ELicence
from levels.outbox.models import OutboxMessage
from levels.windows.models import QueueTicket
from tests.conftest import DEMO_NOW, TEST_SECRET
from tests.scenarios.desk import Desk, at
from tests.scenarios.test_evaluations import FILE, _completed, _rate
from tests.scenarios.test_licence_lifecycle import DAY as LICENCE_DAY
from tests.scenarios.test_licence_lifecycle import HOLDER, _change, _outcome
from tests.scenarios.test_licences import _register_business
from tests.scenarios.test_queue import (
    A01,
    A02,
    A_POST,
    B_POST,
    CALL,
    ISSUE,
    OPEN_POST,
    SET_POSTS,
    WORKDAY,
    YUCI,
    _do,
)
from tests.scenarios.test_referral import DISABILITY_CARD
from tests.scenarios.test_withdraw_referred import referred_case, seen
from tests.support.messages import carry_all
from tests.topology.conftest import COUNTIES
from tests.topology.conftest import YUCI as YUCI_NODE


async def _rows(nodes: NodeRegistry, model: Any) -> dict[str, int]:
    """Rows of ``model`` of a 榆次区 division per node with any, read straight from each
    node's database (an engine of the test's own, not the hub's)."""
    counts: dict[str, int] = {}
    for node in nodes:
        engine = create_async_engine(node.url)
        try:
            async with engine.connect() as conn:
                stmt = select(func.count()).select_from(model)
                found = await conn.scalar(stmt.where(model.division_code.startswith("140702")))
        finally:
            await engine.dispose()
        if found:
            counts[node.id] = found
    return counts


async def test_a_ticket_issued_and_called_at_a_yuci_window(
    county_desk: Desk, county_nodes: NodeRegistry
) -> None:
    desk = county_desk
    before = await _rows(county_nodes, QueueTicket)
    await desk.sign_in("yuci.admin", A_POST, B_POST)
    # given the posts of window A02 set by the 榆次区 admin (a window write)
    posts = await _do(desk, "yuci.admin", SET_POSTS, windowId=A02, aStaff=A_POST, bStaff=B_POST)
    assert posts["errors"] == [], posts
    await desk.travel(at(WORKDAY, 9))
    # when a resident takes a ticket for it and B, on the post, calls
    issued = await _do(desk, "resident1", ISSUE, orgCode=YUCI, windowId=A02)
    assert issued["errors"] == [], issued
    assert (await _do(desk, B_POST, OPEN_POST, windowId=A02))["errors"] == []
    called = await _do(desk, B_POST, CALL, windowId=A02)
    # then the ticket is called at A02
    assert called["errors"] == [], called
    assert (called["ticket"]["number"], called["ticket"]["status"]) == ("A001", "CALLED")
    assert called["ticket"]["id"] == issued["ticket"]["id"]
    # and it is kept in 榆次区's database only (as the demo's tickets are)
    assert set(before) <= {YUCI_NODE}
    assert await _rows(county_nodes, QueueTicket) == {YUCI_NODE: before.get(YUCI_NODE, 0) + 1}


async def test_a_yuci_case_rated_and_complained_about(
    county_desk: Desk, county_nodes: NodeRegistry
) -> None:
    desk = county_desk
    ratings = await _rows(county_nodes, Evaluation)
    complaints = await _rows(county_nodes, Complaint)
    number = await _completed(desk)
    # when its applicant rates the completed 榆次区 case
    rated = await _rate(desk, "resident1", number, "SATISFIED")
    assert rated["errors"] == [], rated
    assert rated["evaluation"]["caseNumber"] == number
    # and files a complaint about window A01 of the centre
    filed = (
        await desk.run(
            "resident1", FILE, input={"content": "the queue was not called", "windowId": A01}
        )
    )["fileComplaint"]
    assert filed["errors"] == [], filed
    # then both are in 榆次区's database only, and read back by their IDs
    assert set(ratings) | set(complaints) <= {YUCI_NODE}
    assert await _rows(county_nodes, Evaluation) == {YUCI_NODE: ratings.get(YUCI_NODE, 0) + 1}
    assert await _rows(county_nodes, Complaint) == {YUCI_NODE: complaints.get(YUCI_NODE, 0) + 1}
    again = await _rate(desk, "resident1", number, "SATISFIED")
    assert [e["code"] for e in again["errors"]], again  # rated once, in the same store


def _govhub(settings: Settings, *args: str) -> Result:
    env = {
        "GOVHUB_MODE": "dev",
        "GOVHUB_VAR_DIR": str(settings.var_dir),
        "GOVHUB_NODES": str(settings.nodes),
        "GOVHUB_SECRET_KEY": TEST_SECRET,
        "GOVHUB_CLOCK_OVERRIDE": DEMO_NOW.isoformat(),
        "GOVHUB_REDIS_URL": settings.redis_url,
        "REDIS_URL": None,
        "GOVHUB_IDENTITY_DB_URL": settings.identity_db_url,
        **{f"GOVHUB_{s}_DB_URL": None for s in ("CITY", "COUNTY", "TOWN", "VILLAGE")},
    }
    return CliRunner().invoke(main, list(args), env=env)


async def test_audit_verify_walks_the_nodes_of_the_map(
    county_stores: tuple[Settings, NodeRegistry],
) -> None:
    settings, _nodes = county_stores

    async def govhub(*args: str) -> Result:
        # the command runs its own event loop: in a thread of its own
        return await asyncio.to_thread(_govhub, settings, *args)

    everything = await govhub("audit", "verify")
    assert everything.exit_code == 0, everything.output
    heads = [line for line in everything.output.splitlines() if not line.startswith(" ")]
    # the city node by its level (the one node holding it), each county node by its id
    assert [h.split(":")[0] for h in heads] == ["CITY", *COUNTIES, "links"]
    yuci = next(h for h in heads if h.startswith(f"{YUCI_NODE}:"))
    assert not yuci.startswith(f"{YUCI_NODE}: 0 events"), yuci

    one = await govhub("audit", "verify", "--node", YUCI_NODE)
    assert one.exit_code == 0, one.output
    only = [h for h in one.output.splitlines() if not h.startswith(" ")]
    assert only[0] == yuci and [h.split(":")[0] for h in only] == [YUCI_NODE, "links"]
    counties = await govhub("audit", "verify", "--level", "county")
    assert counties.exit_code == 0, counties.output
    assert [h.split(":")[0] for h in counties.output.splitlines() if not h.startswith(" ")] == [
        *COUNTIES,
        "links",
    ]

    unknown = await govhub("audit", "verify", "--node", "county-999999")
    assert unknown.exit_code != 0
    assert "no node county-999999" in unknown.output and "Traceback" not in unknown.output


async def test_a_licence_of_a_yuci_town_suspended_and_verified(
    county_desk: Desk, county_nodes: NodeRegistry
) -> None:
    desk = county_desk
    await desk.travel(at(LICENCE_DAY, 9))
    await desk.sign_in(HOLDER, "xiuwen.receptionist", "xiuwen.director")
    # given a business licence issued by 修文镇 (a town of 榆次区)
    licence = await _register_business(desk, HOLDER)
    token = licence["token"]
    assert await _outcome(desk, token) == "VALID"
    # when its director suspends it, the issuer's row says so at once
    suspended = await _change(
        desk, "xiuwen.director", "suspendLicence", id=licence["identifier"], reason="停业整顿"
    )
    assert suspended["errors"] == [], suspended
    assert await _outcome(desk, token) == "SUSPENDED"
    back = await _change(desk, "xiuwen.director", "reinstateLicence", id=licence["identifier"])
    assert back["licence"]["status"] == "VALID"
    assert await _outcome(desk, token) == "VALID"
    # and the master row is in 榆次区's database (the city node keeps the library copy)
    engine = create_async_engine(county_nodes[YUCI_NODE].url)
    try:
        async with engine.connect() as conn:
            master = await conn.scalar(
                select(ELicence.status).where(ELicence.id == licence["identifier"])
            )
    finally:
        await engine.dispose()
    assert master is LicenceStatus.VALID


async def test_a_case_withdrawn_on_its_way_up_inside_one_county_node(
    county_desk: Desk, county_nodes: NodeRegistry
) -> None:
    """The village station and the county centre share 榆次区's node: the referral
    moves the case up in place, and the withdrawal sent after it, through the same
    outbox, withdraws it there."""
    received = dt.date(2025, 7, 14)
    number = await referred_case(county_desk, DISABILITY_CARD, "000700400100", at(received))
    sent = await county_desk.act("resident4", "withdrawCase", number=number)
    assert sent["errors"] == [] and sent["case"]["status"] == "REFERRED"
    await carry_all(county_nodes, FixedClock(at(received, 11)))
    case = await seen(county_desk, number)
    assert (case["level"], case["status"]) == ("COUNTY", "WITHDRAWN")
    assert [e["action"] for e in case["timeline"]] == [
        "SUBMIT",
        "REFER",
        "SEND_WITHDRAWAL",
        "RECEIVE_REFERRAL",
        "WITHDRAW",
    ]
    async with county_nodes[YUCI_NODE].sessions() as session:
        topics = await session.scalars(
            select(OutboxMessage.topic).where(
                OutboxMessage.case_number == number, OutboxMessage.topic.like("case.%")
            )
        )
        # the case's own messages (a material's use of a library licence goes too)
        assert sorted(topics) == ["case.referred", "case.withdrawn"]
