"""An auditor pages through the cases of the whole city — four stores fanned out and
merged — while new cases are written at several levels between the pages: every case
that was there at the start is seen exactly once, and none is seen twice."""

from __future__ import annotations

import datetime as dt
from typing import Any

from gateway.demo.accounts import resident_id_number
from tests.scenarios.desk import DISABILITY_CARD, Desk, at

PAGE = """
query($after: String) {
  cases(first: 4, after: $after) {
    edges { node { number level } }
    pageInfo { hasNextPage endCursor }
  }
}"""
TOWN_RELIEF = "12140702MB1010008W3000500100300"  # 临时救助, decided at 修文镇


async def all_numbers(desk: Desk) -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        page = (await desk.run("jz.auditor", PAGE, after=after))["cases"]
        seen += [e["node"]["number"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]


async def test_pages_across_levels_under_concurrent_writes(desk: Desk) -> None:
    day = dt.date(2025, 8, 4)
    await desk.travel(at(day))
    before = await all_numbers(desk)
    assert len(before) == len(set(before))
    assert {n[:12] for n in before} >= {"140702000000"}

    county = await desk.materials("000700400100")
    town = await desk.materials("000500100300", "140702101000", "TOWN")

    async def write() -> None:
        await desk.submit("resident1", DISABILITY_CARD, county)
        await desk.submit(
            "xiuwen.receptionist",
            TOWN_RELIEF,
            town,
            channel="COUNTER",
            applicantIdNumber=resident_id_number(2),
        )

    seen: list[str] = []
    after = None
    round_ = 0
    while True:
        page: dict[str, Any] = (await desk.run("jz.auditor", PAGE, after=after))["cases"]
        seen += [e["node"]["number"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        if round_ < 3:  # new cases land while the auditor is paging
            await write()
            round_ += 1
    assert len(seen) == len(set(seen)), "a case was listed twice"
    assert set(before) <= set(seen), "a case that was there all along was skipped"
    # per store, the order is by number
    for prefix in {n[:12] for n in seen}:
        mine = [n for n in seen if n[:12] == prefix]
        assert mine == sorted(mine)


BELOW = """
query($code: String!) {
  cases(first: 100, filter: {divisionCode: $code}) { edges { node { number level } } }
  auditEvents(first: 100, filter: {divisionCode: $code}) { edges { node { caseNumber level } } }
}"""


async def test_a_division_prefix_spans_the_stores_below_it(desk: Desk) -> None:
    """修文镇 and its villages: the town's store and the village store, nothing else."""
    await desk.travel(at(dt.date(2025, 8, 5)))
    town = await desk.materials("000500100300", "140702101000", "TOWN")
    await desk.submit(
        "xiuwen.receptionist",
        TOWN_RELIEF,
        town,
        channel="COUNTER",
        applicantIdNumber=resident_id_number(2),
    )
    data = await desk.run("jz.auditor", BELOW, code="140702101000")
    cases = [e["node"] for e in data["cases"]["edges"]]
    assert cases and all(c["number"].startswith("140702101") for c in cases)
    assert {c["level"] for c in cases} <= {"TOWN", "VILLAGE"} and "TOWN" in {
        c["level"] for c in cases
    }
    events = [e["node"] for e in data["auditEvents"]["edges"]]
    assert events and all(e["caseNumber"].startswith("140702101") for e in events)
    # a county auditor of another county sees none of it; a bad code is a typed error
    assert (await desk.run("yuci.auditor", BELOW, code="140703101000"))["cases"]["edges"] == []
    bad = await desk.ask("jz.auditor", BELOW, code="14070210")
    assert bad["errors"][0]["extensions"]["code"] == "INVALID_DIVISION_CODE"
