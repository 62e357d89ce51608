"""Electronic supervision (电子监察) of a running clock, over HTTP: the worker gives a
case a yellow card when most of its promised limit is used and a red card once it is
overdue, once each; and staff find cases by applicant and acceptance date."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from gateway.demo.accounts import resident_id_number
from gateway.nodes import NodeRegistry
from gateway.timers import fire_all
from levels.common.clock import FixedClock
from tests.scenarios.desk import (
    CASE,
    DISABILITY_CARD,
    DISABILITY_LICENCE,
    Desk,
    actions,
    add_working_days,
    at,
)

CARDS = """
query($number: String!) {
  case(number: $number) {
    status clock { state dueOn }
    supervisionCards { color dueOn issuedAt }
    timeline { action }
  }
}"""
SEARCH = """
query($filter: CaseFilter) { cases(filter: $filter, first: 100) { edges { node { number } } } }
"""


async def test_yellow_then_red_card_once_each(desk: Desk, nodes: NodeRegistry) -> None:
    received = dt.date(2025, 3, 31)  # the clock runs across Qingming (4–6 April 2025)
    await desk.travel(at(received))
    materials = await desk.materials("000700400100")
    number = (await desk.submit("resident1", DISABILITY_CARD, materials))["case"]["number"]
    await desk.act("yuci.receptionist", "acceptCase", number=number)
    case = (await desk.run("yuci.supervisor", CARDS, number=number))["case"]
    due = dt.date.fromisoformat(case["clock"]["dueOn"])
    assert due == add_working_days(received, 10)
    assert case["supervisionCards"] == []

    async def sweep(day: dt.date) -> Any:
        await desk.travel(at(day, 8))
        # three workers at once (the gateway's and two `govhub timers run`): once each
        clock = FixedClock(at(day, 8))
        await asyncio.gather(*(fire_all(nodes, clock) for _ in range(3)))
        return (await desk.run("yuci.supervisor", CARDS, number=number))["case"]

    on_due = await sweep(due)  # the last day: YELLOW, not yet overdue
    assert on_due["clock"] == {"state": "YELLOW", "dueOn": due.isoformat()}
    assert [c["color"] for c in on_due["supervisionCards"]] == ["YELLOW"]
    after = add_working_days(due, 1)
    overdue = await sweep(after)
    assert overdue["clock"]["state"] == "RED"
    cards = overdue["supervisionCards"]
    assert [(c["color"], c["dueOn"]) for c in cards] == [
        ("YELLOW", due.isoformat()),
        ("RED", due.isoformat()),
    ]
    again = await sweep(after + dt.timedelta(days=1))
    assert again["supervisionCards"] == cards
    trail = [a for a in actions(again) if a.endswith("_CARD")]
    assert trail == ["YELLOW_CARD", "RED_CARD"]
    # decided at last: the clock stops and no card follows
    await desk.act("yuci.reviewer", "startReview", number=number)
    decided = await desk.act(
        "yuci.director",
        "decideCase",
        number=number,
        decision="APPROVED",
        licenceFields=DISABILITY_LICENCE,
    )
    assert decided["errors"] == []
    final = await sweep(after + dt.timedelta(days=7))
    assert final["status"] == "APPROVED" and final["supervisionCards"] == cards


async def test_staff_find_cases_by_applicant_and_acceptance_date(desk: Desk) -> None:
    received = dt.date(2025, 4, 14)
    await desk.travel(at(received))
    materials = await desk.materials("000700400100")
    mine = (await desk.submit("resident1", DISABILITY_CARD, materials))["case"]["number"]
    other = (await desk.submit("resident2", DISABILITY_CARD, materials))["case"]["number"]
    await desk.act("yuci.receptionist", "acceptCase", number=mine)
    await desk.act("yuci.receptionist", "acceptCase", number=other)

    async def found(**filter: object) -> list[str]:
        data = await desk.run("yuci.receptionist", SEARCH, filter=filter)
        return [e["node"]["number"] for e in data["cases"]["edges"]]

    day = received.isoformat()
    by_resident1 = await found(applicant=resident_id_number(0), acceptedFrom=day, acceptedTo=day)
    assert by_resident1 == [mine]
    both = await found(acceptedFrom=day, acceptedTo=day)
    assert mine in both and other in both
    assert await found(acceptedFrom="2025-04-15", acceptedTo="2025-04-15") == []
    # nobody applies under this (valid) number: nothing, not an error
    stranger = resident_id_number(9)
    assert await found(applicant=stranger) == []
    bad = await desk.ask("yuci.receptionist", SEARCH, filter={"applicant": "1407022001"})
    assert bad["errors"][0]["extensions"]["code"] == "INVALID_ID_NUMBER"
    # the resident sees their own case whatever the filter says of others
    assert (await desk.run("resident1", CASE, number=mine))["case"]["status"] == "ACCEPTED"
