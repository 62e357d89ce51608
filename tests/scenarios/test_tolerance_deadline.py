"""容缺承诺: the applicant promises the tolerated materials by a date after today and
within the 20 working days a licence must be decided in, counted from receipt — a
promise for 9999-12-31 (or for the 21st working day) is INVALID_DEADLINE and no case."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.scenarios.desk import DISABILITY_CARD, Desk, add_working_days, at

DAY = dt.date(2026, 5, 13)  # a day of its own (no other test counts its cases)


async def _submit(desk: Desk, deadline: str) -> dict[str, Any]:
    given = await desk.materials("000700400100")
    return await desk.submit("resident1", DISABILITY_CARD, given, toleranceDeadline=deadline)


async def test_a_promise_is_kept_within_twenty_working_days(desk: Desk) -> None:
    await desk.travel(at(DAY))
    last = add_working_days(DAY, 20)
    for too_late in ("9999-12-31", "2100-12-31", (last + dt.timedelta(days=1)).isoformat()):
        refused = await _submit(desk, too_late)
        assert refused["case"] is None, too_late
        assert refused["errors"][0]["code"] == "INVALID_DEADLINE"
        assert refused["errors"][0]["field"] == ["input", "toleranceDeadline"]
    assert (await _submit(desk, DAY.isoformat()))["errors"][0]["code"] == "INVALID_DEADLINE"
    kept = await _submit(desk, last.isoformat())
    assert kept["errors"] == [] and kept["case"]["status"] == "SUBMITTED"
