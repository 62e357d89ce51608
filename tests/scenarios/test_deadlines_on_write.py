"""Deadlines hold on the write, not only once the timer worker has passed: with no
pass at all, a step a timer would have made impossible is refused with the
deadline's code, and what the timer does is done then, in the same transaction — and
kept, though the step is refused."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from gateway.nodes import NodeRegistry
from gateway.timers import fire_all
from levels.calendar.workdays import load_calendar
from levels.cases.due import apply_due
from levels.cases.timers import fire_due_timers
from levels.common.clock import FixedClock
from levels.common.enums import Level
from levels.node.steps import read_locked
from tests.conftest import BACKEND
from tests.scenarios.desk import (
    CASE,
    DISABILITY_CARD,
    Desk,
    actions,
    add_working_days,
    at,
    fire_timers,
)
from tests.scenarios.test_one_window_and_joint import RESIDENT1_ID, windows

CARDS = """query($number: String!) {
  case(number: $number) { status supervisionCards { color dueOn } timeline { action } } }"""


async def calendar_of(session: Any) -> Any:
    return await load_calendar(session=session)


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


def last(case: dict[str, Any]) -> dict[str, Any]:
    event: dict[str, Any] = case["timeline"][-1]
    return event


async def test_a_notice_after_three_working_days_is_refused_the_case_counts_as_accepted(
    desk: Desk, nodes: NodeRegistry
) -> None:
    received = dt.date(2026, 9, 29)  # a Tuesday, before National Day's week off
    await desk.travel(at(received))
    materials = await desk.materials("000700400100")
    submitted = await desk.submit("resident1", DISABILITY_CARD, materials[:-1])
    number = submitted["case"]["number"]
    # Sep 30 = 1, Oct 1-7 off, Oct 8 = 2, Oct 9 = 3: Oct 10 (a make-up Saturday) is late
    assert add_working_days(received, 3) == dt.date(2026, 10, 9)
    await desk.travel(at(dt.date(2026, 10, 10), 9))

    late = await desk.act("yuci.receptionist", "issueSupplementNotice", number=number, materials=[])
    assert codes(late) == ["DEEMED_ACCEPTED"]
    # the answer shows the case as the deadline left it: accepted on receipt
    case = late["case"]
    assert case["status"] == "ACCEPTED" and case["supplementDeadline"] is None
    assert case["clock"]["deemedAccepted"] is True
    assert case["clock"]["acceptedOn"] == "2026-09-29"
    assert last(case)["action"] == "DEEM_ACCEPTED" and last(case)["actorKind"] == "SYSTEM"
    # committed, though the notice was refused; the pass finds nothing left to do
    stored = (await desk.run("resident1", CASE, number=number))["case"]
    assert stored["status"] == "ACCEPTED" and stored["clock"]["deemedAccepted"] is True
    await fire_timers(nodes, at(dt.date(2026, 10, 10), 10))
    again = (await desk.run("resident1", CASE, number=number))["case"]
    # made online and never pre-reviewed: its 2-day pre-review clock carded it first
    late_pre_review = ["PRE_REVIEW_YELLOW_CARD", "PRE_REVIEW_RED_CARD"]
    assert actions(again) == actions(stored) == ["SUBMIT", *late_pre_review, "DEEM_ACCEPTED"]
    # accepting or refusing it now is refused the same way, and changes nothing
    for step, extra in (("acceptCase", {}), ("rejectCase", {"reason": "NOT_REQUIRED"})):
        refused = await desk.act("yuci.receptionist", step, number=number, **extra)
        assert codes(refused) == ["DEEMED_ACCEPTED"]
        assert refused["case"]["status"] == "ACCEPTED"
    assert actions((await desk.run("resident1", CASE, number=number))["case"]) == actions(again)


async def test_a_notice_on_the_third_working_day_is_in_time(desk: Desk) -> None:
    received = dt.date(2026, 9, 29)
    await desk.travel(at(received))
    materials = await desk.materials("000700400100")
    number = (await desk.submit("resident1", DISABILITY_CARD, materials[:-1]))["case"]["number"]
    await desk.travel(at(dt.date(2026, 10, 9), 23))
    notice = await desk.act(
        "yuci.receptionist", "issueSupplementNotice", number=number, materials=[]
    )
    assert notice["errors"] == [] and notice["case"]["status"] == "AWAITING_SUPPLEMENT"


async def test_a_supplement_after_its_deadline_is_refused_the_case_is_closed(
    desk: Desk, nodes: NodeRegistry
) -> None:
    received = dt.date(2026, 10, 9)
    await desk.travel(at(received))
    materials = await desk.materials("000700400100")
    number = (await desk.submit("resident1", DISABILITY_CARD, materials[:-1]))["case"]["number"]
    notice = await desk.act(
        "yuci.receptionist", "issueSupplementNotice", number=number, materials=[], deadlineDays=3
    )
    assert notice["case"]["supplementDeadline"] == "2026-10-13"
    await desk.travel(at(dt.date(2026, 10, 14), 0) + dt.timedelta(minutes=30))

    late = await desk.act(
        "resident1",
        "supplementMaterials",
        number=number,
        materials=[{"name": materials[-1], "source": "PAPER"}],
    )
    assert codes(late) == ["SUPPLEMENT_DEADLINE_PASSED"]
    case = late["case"]
    assert case["status"] == "CLOSED_UNSUPPLEMENTED" and case["clock"]["acceptedOn"] is None
    assert last(case)["action"] == "CLOSE_UNSUPPLEMENTED" and last(case)["actorKind"] == "SYSTEM"
    # the material was not taken: the case closed before it came
    missing = {m["name"]: m["state"] for m in case["materials"]}[materials[-1]]
    assert missing == "MISSING"
    stored = (await desk.run("resident1", CASE, number=number))["case"]
    assert stored["status"] == "CLOSED_UNSUPPLEMENTED"
    await fire_timers(nodes, at(dt.date(2026, 10, 14), 9))
    assert actions((await desk.run("resident1", CASE, number=number))["case"]) == actions(stored)


async def test_a_department_taking_up_a_push_late_is_flagged_first(desk: Desk) -> None:
    received = dt.date(2025, 3, 3)
    await desk.travel(at(received))
    w = await windows(desk)
    materials = await desk.materials("000700400100")
    number = (
        await desk.submit(
            "yuci.receptionist",
            DISABILITY_CARD,
            materials,
            channel="COUNTER",
            applicantIdNumber=RESIDENT1_ID,
            windowId=w["A01"],
        )
    )["case"]["number"]
    await desk.travel(at(add_working_days(received, 3), 9))  # a day late, no pass since
    # the flag comes first and moves the version, as a pass would have: the version read
    # before is stale, and the answer shows the flagged case to read again
    stale = await desk.act("yuci.cl.receptionist", "acceptCase", number=number, expectedVersion=1)
    assert codes(stale) == ["VERSION_CONFLICT"]
    flagged = stale["case"]
    assert flagged["status"] == "SUBMITTED" and flagged["pushOverdue"] is True
    assert actions(flagged)[-1] == "PUSH_OVERDUE" and flagged["version"] == 2
    accepted = await desk.act(
        "yuci.cl.receptionist", "acceptCase", number=number, expectedVersion=2
    )
    # still allowed: the department takes it up, and the lateness is on record
    assert accepted["errors"] == [] and accepted["case"]["status"] == "ACCEPTED"
    assert accepted["case"]["pushOverdue"] is True
    assert actions(accepted["case"])[-2:] == ["PUSH_OVERDUE", "ACCEPT"]


async def test_archiving_late_records_the_overdue_archive_first(desk: Desk) -> None:
    received = dt.date(2025, 3, 10)
    await desk.travel(at(received))
    materials = await desk.materials("000700400100")
    number = (await desk.submit("resident1", DISABILITY_CARD, materials))["case"]["number"]
    await desk.act("yuci.receptionist", "acceptCase", number=number)
    await desk.act("yuci.reviewer", "startReview", number=number)
    await desk.act(
        "yuci.director", "decideCase", number=number, decision="DENIED", reasons="不符合条件"
    )
    delivered = await desk.act(
        "yuci.output", "deliverCase", number=number, method="MAIL", reference="EMS-1"
    )
    assert delivered["errors"] == []
    await desk.travel(at(add_working_days(received, 2), 9))  # the working day after is gone
    archived = await desk.act("yuci.output", "archiveCase", number=number)
    assert archived["errors"] == [] and archived["case"]["status"] == "ARCHIVED"
    assert actions(archived["case"])[-2:] == ["ARCHIVE_OVERDUE", "ARCHIVE"]


async def test_a_case_overdue_gets_its_cards_before_its_clock_stops(
    desk: Desk, nodes: NodeRegistry
) -> None:
    received = dt.date(2025, 3, 17)
    await desk.travel(at(received))
    materials = await desk.materials("000700400100")
    number = (await desk.submit("resident1", DISABILITY_CARD, materials))["case"]["number"]
    accepted = await desk.act("yuci.receptionist", "acceptCase", number=number)
    due = dt.date.fromisoformat(accepted["case"]["clock"]["dueOn"])
    await desk.travel(at(due + dt.timedelta(days=1)))  # RED, and no pass has run
    withdrawn = await desk.act("resident1", "withdrawCase", number=number)
    assert withdrawn["errors"] == [] and withdrawn["case"]["status"] == "WITHDRAWN"
    case = (await desk.run("yuci.supervisor", CARDS, number=number))["case"]
    assert [c["color"] for c in case["supervisionCards"]] == ["YELLOW", "RED"]
    assert [c["dueOn"] for c in case["supervisionCards"]] == [due.isoformat()] * 2
    assert [e["action"] for e in case["timeline"]][-3:] == ["YELLOW_CARD", "RED_CARD", "WITHDRAW"]
    # the pass gives no second card
    await fire_all(nodes, FixedClock(at(due + dt.timedelta(days=2))))
    again = (await desk.run("yuci.supervisor", CARDS, number=number))["case"]
    assert again["supervisionCards"] == case["supervisionCards"]


@pytest.mark.skipif(BACKEND != "postgres", reason="row locks: SQLite takes one writer at a time")
async def test_a_pass_while_a_write_holds_the_case_neither_waits_for_the_other(
    desk: Desk, nodes: NodeRegistry
) -> None:
    """A write locks its case first and then the case's due timers; the pass locks the
    case before a timer too, and passes over a case a write holds. In the old order
    (timer, then case) the two deadlocked on PostgreSQL and one of them failed."""
    received = dt.date(2026, 9, 29)
    await desk.travel(at(received))
    materials = await desk.materials("000700400100")
    number = (await desk.submit("resident1", DISABILITY_CARD, materials[:-1]))["case"]["number"]
    late = at(dt.date(2026, 10, 10), 9)  # its deemed acceptance fell due on Oct 10
    county = nodes[Level.COUNTY].sessions
    async with county.begin() as write:
        assert await read_locked(write, number) is not None  # a step's first statement
        # the pass runs while the write holds the case: it leaves the case to the write
        fired_by_pass = await asyncio.wait_for(
            fire_due_timers(county, now=late, calendar=calendar_of), timeout=60
        )
        assert fired_by_pass == 0
        # the write fires what fell due (the pass did not take its timers from under it)
        await apply_due(write, number, now=late, calendar=calendar_of)
    case = (await desk.run("resident1", CASE, number=number))["case"]
    assert case["status"] == "ACCEPTED" and case["clock"]["deemedAccepted"] is True
    assert actions(case).count("DEEM_ACCEPTED") == 1
    # a later pass finds nothing left for it
    assert await fire_timers(nodes, at(dt.date(2026, 10, 10), 10)) == 0
