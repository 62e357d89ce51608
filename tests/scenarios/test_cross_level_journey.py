"""The whole journey of issue "cross-level routing", over HTTP as the real roles: a
修文村 resident authorizes the village station in the app → its agent applies for
him (代办) → the town reviews first and reports up → 榆次区 accepts on receipt and
approves → the resident sees it on the phone, and the village ledger keeps step."""

from __future__ import annotations

import datetime as dt

from gateway.nodes import NodeRegistry
from levels.common.clock import FixedClock
from tests.scenarios.desk import Desk, at
from tests.scenarios.test_referral import REFER, SUBSISTENCE, TIMELINE
from tests.scenarios.test_village_proxy import AGENT, VILLAGE, authorize, ledger, proxy_submit
from tests.support.messages import carry

MY_CASES = "query { cases(first: 100) { edges { node { number status level channel } } } }"


async def test_authorize_proxy_refer_review_accept_approve_and_see_it(
    desk: Desk, nodes: NodeRegistry
) -> None:
    day = dt.date(2025, 7, 7)
    await desk.travel(at(day, 9))
    granted = await authorize(desk, expiresOn="2025-12-31")
    assert granted["errors"] == []
    submitted = await proxy_submit(desk, AGENT, SUBSISTENCE, granted["authorization"]["id"])
    assert submitted["errors"] == []
    number = submitted["case"]["number"]
    assert number.startswith(f"{VILLAGE}-20250707-")

    async def refer(who: str, **extra: str) -> None:
        payload = (await desk.run(who, REFER, input={"number": number, **extra}))["referCase"]
        assert payload["errors"] == [], payload

    async def relay(hour: int) -> None:
        await carry(nodes, FixedClock(at(day, hour)))

    await refer(AGENT)
    await relay(10)
    await desk.travel(at(day, 10))
    await refer("xiuwen.reviewer", opinion="经核查情况属实，同意上报")
    await relay(11)
    await desk.travel(at(day, 14))
    case = (await desk.run("resident4", TIMELINE, number=number))["case"]
    assert (case["level"], case["status"]) == ("COUNTY", "ACCEPTED")
    assert case["clock"]["acceptedOn"] == day.isoformat()
    await desk.act("yuci.reviewer", "startReview", number=number)
    approved = await desk.act("yuci.director", "decideCase", number=number, decision="APPROVED")
    assert approved["errors"] == []

    # on the phone: one case, approved, handed in by proxy, where it is now
    mine = await desk.run("resident4", MY_CASES)
    seen = [e["node"] for e in mine["cases"]["edges"] if e["node"]["number"] == number]
    assert seen == [{"number": number, "status": "APPROVED", "level": "COUNTY", "channel": "PROXY"}]
    # the village ledger follows the case up
    (row,) = [r for r in await ledger(desk, AGENT, day) if r["number"] == number]
    assert (row["status"], row["level"]) == ("APPROVED", "COUNTY")
    assert [e["action"] for e in case["timeline"]] == [
        "SUBMIT",
        "REFER",
        "RECEIVE_REFERRAL",
        "REFER",
        "RECEIVE_REFERRAL",
    ]
