"""归档 within 1 working day of delivery (seed 001, 办理结果的送达与归档: "大厅综合出件窗口
在送达成功后1个工作日内将《送达回执》移交相关部门"): the timer pass flags a delivered case
not archived in time — a case field, a filter of ``cases`` and a supervision figure,
not only an event of its trail."""

from __future__ import annotations

import datetime as dt
from typing import Any

from gateway.nodes import NodeRegistry
from tests.scenarios.desk import (
    DISABILITY_CARD,
    YUCI_ORG,
    Desk,
    actions,
    add_working_days,
    at,
    fire_timers,
)

FLAGGED = """query($flag: Boolean!, $day: Date!) {
  cases(filter: {archiveOverdue: $flag, orgCode: "12140702MB00000006", submittedFrom: $day,
                 submittedTo: $day}, first: 100) {
    edges { node { number archiveOverdue } } } }"""
FIGURES = """query($day: Date!) {
  supervision(divisionCode: "140702000000", from: $day, to: $day) {
    totals { delivered archiveOverdue }
    byOrg { orgCode figures { delivered archiveOverdue } } } }"""
CASE = """query($number: String!) {
  case(number: $number) { status archiveOverdue version timeline { action } } }"""


async def flagged(desk: Desk, flag: bool, day: dt.date) -> set[str]:
    """The cases of 榆次区's centre received on ``day`` with that flag."""
    data = await desk.run("yuci.supervisor", FLAGGED, flag=flag, day=day.isoformat())
    return {e["node"]["number"] for e in data["cases"]["edges"]}


async def yuci_figures(desk: Desk, day: dt.date) -> dict[str, Any]:
    data = await desk.run("yuci.supervisor", FIGURES, day=day.isoformat())
    rows = {r["orgCode"]: r["figures"] for r in data["supervision"]["byOrg"]}
    figures: dict[str, Any] = rows[YUCI_ORG]
    return figures


async def test_seed_001_archive_within_one_working_day_the_timer_flags_a_late_archive(
    desk: Desk, nodes: NodeRegistry
) -> None:
    delivered_on = dt.date(2025, 4, 30)  # the eve of the May Day holiday (May 1-5 off)
    await desk.travel(at(delivered_on, 9))
    materials = await desk.materials("000700400100")
    number = (await desk.submit("resident1", DISABILITY_CARD, materials))["case"]["number"]
    await desk.act("yuci.receptionist", "acceptCase", number=number)
    await desk.act("yuci.reviewer", "startReview", number=number)
    await desk.act("yuci.director", "decideCase", number=number, decision="DENIED", reasons="不符")
    delivered = await desk.act(
        "yuci.output", "deliverCase", number=number, method="MAIL", reference="EMS-2"
    )
    assert delivered["errors"] == [] and delivered["case"]["status"] == "DELIVERED"
    before = await yuci_figures(desk, delivered_on)
    assert before["delivered"] >= 1

    # the one working day after delivery is May 6 (after the holiday): a pass on its
    # last evening flags nothing
    archive_by = add_working_days(delivered_on, 1)
    assert archive_by == dt.date(2025, 5, 6)
    await fire_timers(nodes, at(archive_by, 18))
    case = (await desk.run("yuci.supervisor", CASE, number=number))["case"]
    assert case["status"] == "DELIVERED" and case["archiveOverdue"] is False
    assert number in await flagged(desk, False, delivered_on)
    assert number not in await flagged(desk, True, delivered_on)

    # the next morning's pass flags it once: the field, the filter, the trail, the figure
    await desk.travel(at(archive_by + dt.timedelta(days=1), 9))
    assert await fire_timers(nodes, at(archive_by + dt.timedelta(days=1), 9)) >= 1
    case = (await desk.run("yuci.supervisor", CASE, number=number))["case"]
    assert case["status"] == "DELIVERED" and case["archiveOverdue"] is True
    assert actions(case)[-1] == "ARCHIVE_OVERDUE"
    assert number in await flagged(desk, True, delivered_on)
    assert number not in await flagged(desk, False, delivered_on)
    after = await yuci_figures(desk, delivered_on)
    assert after["delivered"] == before["delivered"]
    assert after["archiveOverdue"] == before["archiveOverdue"] + 1

    # archived late, it stays flagged, and a second pass adds nothing
    archived = await desk.act("yuci.output", "archiveCase", number=number)
    assert archived["errors"] == [] and archived["case"]["status"] == "ARCHIVED"
    await fire_timers(nodes, at(archive_by + dt.timedelta(days=2), 9))
    case = (await desk.run("yuci.supervisor", CASE, number=number))["case"]
    assert case["archiveOverdue"] is True
    assert actions(case).count("ARCHIVE_OVERDUE") == 1
    assert number in await flagged(desk, True, delivered_on)
    assert (await yuci_figures(desk, delivered_on)) == after


async def test_seed_001_a_case_archived_the_working_day_after_delivery_is_not_flagged(
    desk: Desk, nodes: NodeRegistry
) -> None:
    delivered_on = dt.date(2025, 6, 16)
    await desk.travel(at(delivered_on, 9))
    materials = await desk.materials("000700400100")
    number = (await desk.submit("resident1", DISABILITY_CARD, materials))["case"]["number"]
    await desk.act("yuci.receptionist", "acceptCase", number=number)
    await desk.act("yuci.reviewer", "startReview", number=number)
    await desk.act("yuci.director", "decideCase", number=number, decision="DENIED", reasons="不符")
    await desk.act("yuci.output", "deliverCase", number=number, method="MAIL", reference="EMS-3")
    await desk.travel(at(add_working_days(delivered_on, 1), 17))
    archived = await desk.act("yuci.output", "archiveCase", number=number)
    assert archived["errors"] == [] and archived["case"]["status"] == "ARCHIVED"
    await fire_timers(nodes, at(add_working_days(delivered_on, 3), 9))
    case = (await desk.run("yuci.supervisor", CASE, number=number))["case"]
    assert case["archiveOverdue"] is False and "ARCHIVE_OVERDUE" not in actions(case)
    assert number in await flagged(desk, False, delivered_on)
