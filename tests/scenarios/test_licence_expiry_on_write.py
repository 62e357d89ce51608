"""A licence's validity ends on its own day, not when the timer worker marks it EXPIRED
(nor when the library hears of it): with no pass and no relay since, the library gives
no copy of it and fills no material with it, a case naming it is refused, and a change
at the issuer first marks it EXPIRED — kept, though the change is refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

from gateway.nodes import NodeRegistry
from levels.common.clock import FixedClock
from levels.common.enums import Level
from levels.licences.expiry import expire_due
from tests.scenarios.desk import SUBMIT, Desk, at
from tests.scenarios.test_licence_lifecycle import COPY, REISSUE, _change, _codes
from tests.scenarios.test_licences import FOOD, WALLET, _item, _register_business
from tests.support.messages import carry

HOLDER = "resident3"
DAY = dt.date(2026, 10, 19)  # a Monday, before the other licence scenarios' days


async def _status_in_wallet(desk: Desk, identifier: str) -> str:
    wallet = (await desk.run(HOLDER, WALLET, type="YYZZ"))["licences"]["edges"]
    (seen,) = [e["node"] for e in wallet if e["node"]["identifier"] == identifier]
    status: str = seen["status"]
    return status


async def test_a_licence_past_its_validity_counts_as_expired_on_every_write(
    desk: Desk, nodes: NodeRegistry
) -> None:
    await desk.travel(at(DAY, 9))
    await desk.sign_in(HOLDER, "xiuwen.receptionist", "xiuwen.director")
    director = "xiuwen.director"
    first = (await _register_business(desk, HOLDER))["identifier"]
    until = DAY + dt.timedelta(days=2)
    reissued = await desk.run(
        director, REISSUE, input={"id": first, "reason": "变更", "validUntil": until.isoformat()}
    )
    licence = reissued["reissueLicence"]["licence"]["identifier"]
    await carry(nodes, FixedClock(at(DAY, 10)))  # the library has it, VALID
    assert await _status_in_wallet(desk, licence) == "VALID"
    await desk.travel(at(until + dt.timedelta(days=1), 9))  # no pass, no relay since

    # the library: no copy of it
    ask = {"id": licence, "purpose": "银行开户", "validDays": 2}
    copy = (await desk.run(HOLDER, COPY, input=ask))["requestLicenceCopy"]
    assert _codes(copy) == ["LICENCE_NOT_VALID"] and copy["copy"] is None
    # a case: never filled with it, and refused when it names it
    food = await _item(desk, FOOD, "140702000000", "COUNTY")
    wanted = {m["name"]: m["satisfiedByLicenceType"] for m in food["materials"]}
    licensed = next(n for n, t in wanted.items() if t == "YYZZ")
    others = [n for n in wanted if n != licensed]
    applied = await desk.submit(HOLDER, food["implementationCode"], others)
    (owed,) = [m for m in applied["case"]["materials"] if m["name"] == licensed]
    assert owed["reference"] != licence
    named: list[dict[str, Any]] = [
        *({"name": n, "source": "FILE", "reference": "f"} for n in others),
        {"name": licensed, "source": "LICENCE", "reference": licence},
    ]
    input = {"implementationCode": food["implementationCode"], "channel": "MOBILE"}
    refused = (await desk.run(HOLDER, SUBMIT, input={**input, "materials": named}))["submitCase"]
    assert _codes(refused) == ["LICENCE_NOT_VALID"] and refused["case"] is None

    # the issuer: suspending it is refused, for it has expired — and that is kept
    suspended = await _change(desk, director, "suspendLicence", id=licence, reason="停业")
    assert _codes(suspended) == ["INVALID_LICENCE_TRANSITION"]
    assert suspended["licence"]["status"] == "EXPIRED"
    await carry(nodes, FixedClock(at(until + dt.timedelta(days=1), 10)))
    assert await _status_in_wallet(desk, licence) == "EXPIRED"
    # the worker's pass has nothing left to do for it
    later = at(until + dt.timedelta(days=1), 11)
    async with nodes[Level.TOWN].sessions.begin() as session:
        await expire_due(session, Level.TOWN, later)
    await carry(nodes, FixedClock(later))
    assert await _status_in_wallet(desk, licence) == "EXPIRED"
