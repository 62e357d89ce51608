"""An e-licence's life after issuance, over HTTP as the real roles: the issuing town
suspends and reinstates it, reissues it as a new version, the holder asks for a
purpose-bound copy (加注件), and the timer worker expires it when its validity ends —
with every refusal typed and changing nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from gateway.nodes import NodeRegistry
from levels.common.clock import FixedClock
from levels.common.enums import Level
from levels.licences.expiry import expire_due
from tests.scenarios.desk import Desk, at
from tests.scenarios.test_licences import VERIFY, WALLET, _item, _register_business
from tests.support.messages import carry

HOLDER = "resident3"
DAY = dt.date(2026, 11, 23)  # a Monday
CHANGE = """
mutation($input: LicenceActionInput!) {{
  {name}(input: $input) {{
    licence {{ identifier status statusReason version supersedes supersededBy token }}
    errors {{ code }}
  }}
}}"""
REISSUE = """
mutation($input: ReissueLicenceInput!) {
  reissueLicence(input: $input) {
    licence { identifier status version supersedes validUntil token fields { key value } }
    errors { code }
  }
}"""
COPY = """
mutation($input: LicenceCopyInput!) {
  requestLicenceCopy(input: $input) {
    copy { token licenceIdentifier purpose expiresAt qrSvg } errors { code }
  }
}"""
COPY_CHECK = """
query($token: String!) {
  verifyLicence(token: $token) { valid outcome reason copy { purpose expiresAt } }
}"""


async def _change(desk: Desk, who: str, name: str, **input: Any) -> dict[str, Any]:
    data = await desk.run(who, CHANGE.format(name=name), input=input)
    payload: dict[str, Any] = data[name]
    return payload


def _codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


async def _outcome(desk: Desk, token: str) -> str:
    body = await desk.hub.gql(VERIFY, {"token": token})
    outcome: str = body["data"]["verifyLicence"]["outcome"]
    return outcome


async def test_suspend_reinstate_reissue_copy_and_expire(desk: Desk, nodes: NodeRegistry) -> None:
    await desk.travel(at(DAY, 9))
    await desk.sign_in(HOLDER, "xiuwen.receptionist", "xiuwen.director", "yuci.director")
    licence = await _register_business(desk, HOLDER)
    first, token = licence["identifier"], licence["token"]
    director = "xiuwen.director"

    # suspension needs a reason, and only the issuing org's director or admin may
    assert _codes(await _change(desk, director, "suspendLicence", id=first)) == ["REASON_REQUIRED"]
    for who in ("yuci.director", HOLDER, "xiuwen.receptionist"):
        refused = await _change(desk, who, "suspendLicence", id=first, reason="x")
        assert _codes(refused) == ["NOT_THE_ISSUER"], who
    assert await _outcome(desk, token) == "VALID"  # nothing changed
    suspended = await _change(desk, director, "suspendLicence", id=first, reason="停业整顿")
    assert suspended["licence"]["status"] == "SUSPENDED"
    assert await _outcome(desk, token) == "SUSPENDED"
    twice = await _change(desk, director, "suspendLicence", id=first, reason="again")
    assert _codes(twice) == ["INVALID_LICENCE_TRANSITION"]
    reinstated = await _change(desk, director, "reinstateLicence", id=first)
    assert reinstated["licence"]["status"] == "VALID"
    assert await _outcome(desk, token) == "VALID"

    # 换发: a new version; the old one is revoked as superseded; one VALID at a time
    until = DAY + dt.timedelta(days=3)
    new = (
        await desk.run(
            director,
            REISSUE,
            input={
                "id": first,
                "reason": "经营范围变更",
                "fields": [{"key": "scope", "value": "日用百货、文具零售"}],
                "validUntil": until.isoformat(),
            },
        )
    )["reissueLicence"]
    assert new["errors"] == []
    second = new["licence"]
    assert (second["version"], second["supersedes"], second["status"]) == (2, first, "VALID")
    assert second["identifier"].rsplit(".", 2)[0] == first.rsplit(".", 2)[0]  # same serial
    assert {"key": "scope", "value": "日用百货、文具零售"} in second["fields"]
    assert {"key": "address", "value": "修文镇修文村1号"} in second["fields"]  # carried over
    assert await _outcome(desk, token) == "REVOKED"
    assert await _outcome(desk, second["token"]) == "VALID"
    again = await desk.run(director, REISSUE, input={"id": first, "reason": "再次"})
    assert _codes(again["reissueLicence"]) == ["INVALID_LICENCE_TRANSITION"]
    await carry(nodes, FixedClock(at(DAY, 10)))
    wallet = (await desk.run(HOLDER, WALLET, type="YYZZ"))["licences"]["edges"]
    by_id = {e["node"]["identifier"]: e["node"] for e in wallet}
    assert by_id[first]["status"] == "REVOKED" and "已换发" in by_id[first]["statusReason"]
    assert by_id[second["identifier"]]["status"] == "VALID"

    # 加注件: the holder's, for one purpose, for a few days; the use is on the licence
    ask = {"id": second["identifier"], "purpose": "银行开户", "validDays": 2}
    for who, code in (("xiuwen.director", "NOT_THE_HOLDER"), ("resident1", "LICENCE_NOT_FOUND")):
        refused = (await desk.run(who, COPY, input=ask))["requestLicenceCopy"]
        assert _codes(refused) == [code], who
    bad = (await desk.run(HOLDER, COPY, input={**ask, "validDays": 400}))["requestLicenceCopy"]
    assert _codes(bad) == ["INVALID_COPY_VALIDITY"]
    made = (await desk.run(HOLDER, COPY, input=ask))["requestLicenceCopy"]
    assert made["errors"] == [] and made["copy"]["qrSvg"].startswith("<svg")
    copy = made["copy"]["token"]
    checked = (await desk.hub.gql(COPY_CHECK, {"token": copy}))["data"]["verifyLicence"]
    assert (checked["valid"], checked["copy"]["purpose"]) == (True, "银行开户")
    wallet = (await desk.run(HOLDER, WALLET, type="YYZZ"))["licences"]["edges"]
    (seen,) = [e["node"] for e in wallet if e["node"]["identifier"] == second["identifier"]]
    assert [(u["kind"], u["purpose"]) for u in seen["uses"]] == [("COPY", "银行开户")]

    # its validity ends: the timer worker marks it EXPIRED; the copy has expired too
    later = at(until + dt.timedelta(days=1), 9)
    await desk.travel(later)
    # the timer worker's licence pass, on the town's store only (a whole pass would
    # fire every other test's case timers up to this day too)
    async with nodes[Level.TOWN].sessions.begin() as session:
        assert await expire_due(session, Level.TOWN, later) >= 1
    assert await _outcome(desk, second["token"]) == "EXPIRED"
    await carry(nodes, FixedClock(later))  # and the library hears of it
    wallet = (await desk.run(HOLDER, WALLET, type="YYZZ"))["licences"]["edges"]
    (seen,) = [e["node"] for e in wallet if e["node"]["identifier"] == second["identifier"]]
    assert seen["status"] == "EXPIRED"
    late = (await desk.hub.gql(COPY_CHECK, {"token": copy}))["data"]["verifyLicence"]
    assert (late["valid"], late["outcome"]) == (False, "EXPIRED")


FOOD = "000100200100"  # 食品经营许可, asks for the 营业执照
SUBMIT_ONLY = """
mutation($input: SubmitCaseInput!) {
  submitCase(input: $input) {
    case { number materials { name source reference state } } errors { code field }
  }
}"""


async def test_reuse_asks_the_issuer_not_the_library_copy(desk: Desk, nodes: NodeRegistry) -> None:
    """A suspension or revocation counts for reuse the moment the issuer records it,
    while the library's copy still says VALID (the relay has not run): the licence is
    neither filled in nor accepted when named; reinstated, it is again at once. Every
    use names the org that received the application, also one handed in online."""
    day = dt.date(2026, 11, 30)  # a Monday
    await desk.travel(at(day, 9))
    await desk.sign_in(HOLDER, "xiuwen.receptionist", "xiuwen.director")
    licence = await _register_business(desk, HOLDER)
    identifier, token = licence["identifier"], licence["token"]
    await carry(nodes, FixedClock(at(day, 9)))  # the library holds it, VALID
    food = await _item(desk, FOOD, "140702000000", "COUNTY")
    wanted = {m["name"]: m["satisfiedByLicenceType"] for m in food["materials"]}
    (slot,) = [n for n, t in wanted.items() if t == "YYZZ"]
    others = [{"name": n, "source": "FILE", "reference": "f"} for n in wanted if n != slot]
    named = {"name": slot, "source": "LICENCE", "reference": identifier}

    async def apply(materials: list[dict[str, str]]) -> dict[str, Any]:
        input = {
            "implementationCode": food["implementationCode"],
            "channel": "MOBILE",
            "materials": materials,
        }
        payload: dict[str, Any] = (await desk.run(HOLDER, SUBMIT_ONLY, input=input))["submitCase"]
        return payload

    async def filled_with() -> str | None:
        applied = await apply(others)
        assert applied["errors"] == []
        (material,) = [m for m in applied["case"]["materials"] if m["name"] == slot]
        return material["reference"] if material["source"] == "LICENCE" else None

    director = "xiuwen.director"
    for action, reason, outcome in (
        ("suspendLicence", "停业整顿", "SUSPENDED"),
        ("reinstateLicence", None, "VALID"),
        ("revokeLicence", "提交虚假材料取得登记", "REVOKED"),
    ):
        given = {"id": identifier, **({"reason": reason} if reason else {})}
        assert (await _change(desk, director, action, **given))["errors"] == []
        assert await _outcome(desk, token) == outcome  # no relay in between
        if outcome == "VALID":
            assert await filled_with() == identifier
            accepted = await apply([*others, named])
            assert accepted["errors"] == [], accepted
            number = accepted["case"]["number"]
        else:
            assert await filled_with() != identifier, action
            refused = await apply([*others, named])
            assert refused["case"] is None
            assert _codes(refused) == ["LICENCE_NOT_VALID"], action

    await carry(nodes, FixedClock(at(day, 10)))
    wallet = (await desk.run(HOLDER, WALLET, type="YYZZ"))["licences"]["edges"]
    (seen,) = [e["node"] for e in wallet if e["node"]["identifier"] == identifier]
    uses = [u for u in seen["uses"] if u["caseNumber"] == number]
    assert [(u["kind"], u["usedByOrg"]) for u in uses] == [
        ("MATERIAL", food["implementationCode"][:18])
    ]
