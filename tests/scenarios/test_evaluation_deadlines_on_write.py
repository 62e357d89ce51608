"""好差评 and complaints: an open rectification or complaint past its deadline is
flagged overdue by the write that reaches it first — a callback, a voiding, a handling
— with the same audit event as the worker's pass, whether or not a pass has run."""

from __future__ import annotations

import datetime as dt

from gateway.nodes import NodeRegistry
from levels.common.enums import Level
from levels.evaluations.timers import flag_overdue
from tests.scenarios.desk import Desk, at
from tests.scenarios.test_evaluations import (
    APPEAL,
    CALLBACK,
    DECIDE,
    FILE,
    HANDLE,
    TRAIL,
    _completed,
    _do,
    _rate,
)

DAY_AFTER = dt.timedelta(days=1)


JUNE = dt.date(2026, 6, 15)  # a Monday; the Dragon Boat Festival (19 June) is off


async def _trail(desk: Desk, number: str) -> list[str]:
    events = (await desk.run("yuci.supervisor", TRAIL, n=number))["auditTrail"]["events"]
    return [e["action"] for e in events]


async def test_a_complaint_handled_late_is_flagged_overdue_first(
    desk: Desk, nodes: NodeRegistry
) -> None:
    await desk.sign_in("yuci.supervisor")
    await desk.travel(at(JUNE))
    number = await _completed(desk)
    filed = await _do(desk, "resident1", FILE, "fileComplaint", caseNumber=number,
                      content="窗口无人")  # fmt: skip
    due = dt.date.fromisoformat(filed["complaint"]["dueOn"])
    await desk.travel(at(due + dt.timedelta(days=1)))  # no pass has run
    handled = await _do(desk, "yuci.supervisor", HANDLE, "handleComplaint",
                        id=filed["complaint"]["id"], handling="已约谈")  # fmt: skip
    assert handled["errors"] == [] and handled["complaint"]["overdue"] is True
    trail = await _trail(desk, number)
    assert trail[-2:] == ["COMPLAINT_OVERDUE", "HANDLE_COMPLAINT"]
    await flag_overdue(nodes[Level.COUNTY].sessions, level="COUNTY", now=at(due + 2 * DAY_AFTER))
    assert (await _trail(desk, number)).count("COMPLAINT_OVERDUE") == 1


async def test_a_rectification_called_back_or_voided_late_is_flagged_overdue_first(
    desk: Desk, nodes: NodeRegistry
) -> None:
    await desk.sign_in("yuci.supervisor")
    await desk.travel(at(JUNE))
    called, voided = await _completed(desk), await _completed(desk)
    first = (await _rate(desk, "resident1", called, "VERY_DISSATISFIED"))["evaluation"]
    second = (await _rate(desk, "resident1", voided, "DISSATISFIED"))["evaluation"]
    await _do(desk, "yuci.director", APPEAL, "appealRating", id=second["id"], reason="评价错误")
    due = dt.date.fromisoformat(first["rectification"]["dueOn"])
    await desk.travel(at(due + dt.timedelta(days=1)))  # no pass has run

    back = await _do(desk, "yuci.reviewer", CALLBACK, "recordCallback",
                     id=first["rectification"]["id"], note="已回访")  # fmt: skip
    assert back["errors"] == [] and back["rectification"]["overdue"] is True
    assert (await _trail(desk, called))[-2:] == ["RECTIFICATION_OVERDUE", "RECORD_CALLBACK"]
    upheld = await _do(desk, "yuci.supervisor", DECIDE, "decideAppeal", id=second["id"],
                       uphold=True)  # fmt: skip
    assert upheld["evaluation"]["rectification"]["status"] == "VOIDED"
    assert (await _trail(desk, voided))[-2:] == ["RECTIFICATION_OVERDUE", "DECIDE_APPEAL"]
    # the pass flags neither again
    await flag_overdue(nodes[Level.COUNTY].sessions, level="COUNTY", now=at(due + 2 * DAY_AFTER))
    for number in (called, voided):
        assert (await _trail(desk, number)).count("RECTIFICATION_OVERDUE") == 1
