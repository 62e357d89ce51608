"""容缺受理 (001 "告知申请人在规定时间内将容缺材料补齐补正，说明逾期的后果，同时要求申请人
填写容缺受理承诺"): the commitment is recorded at receipt (which materials, by when, the
consequence stated); the material is handed in after acceptance; no approval while it
is outstanding unless a director overrides with a reason; and when the promised day
passes the applicant is told and the stated consequence takes effect — on the write,
whether or not the timer worker has passed."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from gateway.nodes import NodeRegistry
from tests.scenarios.desk import CASE_FIELDS, YUCI_ORG, Desk, actions, add_working_days, at

SUPPORT = f"{YUCI_ORG}2000500100200"  # 特困人员救助供养: two tolerable materials
FOOD = f"{YUCI_ORG}2000100200100"  # 食品经营许可: the matter states 撤销受理
TOLERANCE = """
  tolerance { materials outstanding dueOn consequence statement handedInAt noticedAt
              lapsedAt overriddenBy overrideReason }
"""
VIEW = f"query($number: String!) {{ case(number: $number) {{ {CASE_FIELDS} {TOLERANCE} }} }}"
HAND_IN = f"""mutation($input: HandInToleratedInput!) {{
  handInToleratedMaterials(input: $input) {{
    case {{ {CASE_FIELDS} {TOLERANCE} }} errors {{ code field }} }} }}"""
OVERRIDE = f"""mutation($input: OverrideToleranceInput!) {{
  overrideTolerance(input: $input) {{
    case {{ {CASE_FIELDS} {TOLERANCE} }} errors {{ code field }} }} }}"""
SUBMIT = f"""mutation($input: SubmitCaseInput!) {{
  submitCase(input: $input) {{ case {{ {CASE_FIELDS} {TOLERANCE} }} errors {{ code field }} }}
}}"""
# its other tolerable material, 残疾人证, resident1 holds in the library: filled, not promised
TOLERATED = ("生活自理能力评估表",)


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


async def _apply(
    desk: Desk, implementation: str, basic: str, deadline: dt.date, **extra: Any
) -> dict[str, Any]:
    """resident1 applies online, leaving out the tolerable materials, promised by
    ``deadline``."""
    data = await desk.hub.gql(
        """query($code: String!) { matterImplementations(filter: {basicCode: $code,
        divisionCode: "140702000000", level: COUNTY}) { edges { node {
        materials { name tolerable } } } } }""",
        {"code": basic},
    )
    guide = data["data"]["matterImplementations"]["edges"][0]["node"]["materials"]
    given = [
        {"name": m["name"], "source": "FILE", "reference": f"file-{i}"}
        for i, m in enumerate(guide)
        if not m["tolerable"]
    ]
    input = {
        "implementationCode": implementation,
        "channel": "MOBILE",
        "materials": given,
        "toleranceDeadline": deadline.isoformat(),
        **extra,
    }
    payload: dict[str, Any] = (await desk.run("resident1", SUBMIT, input=input))["submitCase"]
    return payload


async def _under_review(desk: Desk, day: dt.date, due: dt.date) -> dict[str, Any]:
    await desk.travel(at(day, 9))
    applied = await _apply(desk, SUPPORT, "000500100200", due)
    assert applied["errors"] == [], applied
    number = applied["case"]["number"]
    assert (await desk.act("yuci.receptionist", "acceptCase", number=number))["errors"] == []
    reviewed = await desk.act("yuci.reviewer", "startReview", number=number)
    assert reviewed["errors"] == [], reviewed
    return applied["case"]


async def _hand_in(desk: Desk, who: str, number: str, *names: str, **extra: Any) -> Any:
    materials = [{"name": n, "source": "FILE", "reference": f"later-{n}"} for n in names]
    payload = await desk.run(
        who, HAND_IN, input={"number": number, "materials": materials, **extra}
    )
    return payload["handInToleratedMaterials"]


async def _approve(desk: Desk, number: str, **extra: Any) -> dict[str, Any]:
    return await desk.act(
        "yuci.director", "decideCase", number=number, decision="APPROVED", **extra
    )


async def test_tolerance_commitment_is_recorded_and_approval_waits_for_the_hand_in(
    desk: Desk,
) -> None:
    day = dt.date(2026, 7, 6)  # a Monday
    due = add_working_days(day, 5)
    case = await _under_review(desk, day, due)
    number, promise = case["number"], case["tolerance"]
    assert sorted(promise["materials"]) == sorted(TOLERATED)
    assert promise["dueOn"] == due.isoformat() and promise["consequence"] == "TERMINATE"
    assert "终止办理" in promise["statement"] and due.isoformat() in promise["statement"]

    held = await _approve(desk, number)
    assert [(e["code"], e["field"]) for e in held["errors"]] == [
        ("TOLERANCE_OUTSTANDING", ["input", "decision"])
    ]
    # a material never promised is not handed in this way
    wrong = await _hand_in(desk, "resident1", number, "特困人员救助供养申请书")
    assert codes(wrong) == ["NOT_TOLERATED"]

    # the receptionist hands it in for the applicant, at the counter, on paper
    materials = [{"name": TOLERATED[0], "source": "PAPER"}]
    handed = (
        await desk.run(
            "yuci.receptionist", HAND_IN, input={"number": number, "materials": materials}
        )
    )["handInToleratedMaterials"]
    assert handed["errors"] == [], handed
    kept = handed["case"]
    assert kept["tolerance"]["outstanding"] == [] and kept["tolerance"]["handedInAt"]
    states = {m["name"]: (m["state"], m["source"]) for m in kept["materials"]}
    assert states[TOLERATED[0]] == ("PROVIDED", "PAPER")
    assert states["残疾人证"] == ("PROVIDED", "LICENCE")
    assert codes(await _hand_in(desk, "resident1", number, TOLERATED[0])) == ["NOT_TOLERATED"]

    approved = await _approve(desk, number)
    assert approved["errors"] == [] and approved["case"]["status"] == "APPROVED"
    assert actions(approved["case"]).count("HAND_IN_TOLERATED") == 1
    # the promise was kept: the promised day passing changes nothing
    await desk.travel(at(due + dt.timedelta(days=3)))
    after = (await desk.run("yuci.director", VIEW, number=number))["case"]
    assert after["status"] == "APPROVED" and after["tolerance"]["noticedAt"] is None


async def test_tolerance_deadline_passed_notice_then_termination_on_the_write(
    desk: Desk,
) -> None:
    """Nobody hands it in: the first write after the promised day finds the applicant
    told and the case terminated — a hand-in then is refused, and so is an approval."""
    day = dt.date(2026, 7, 13)
    due = add_working_days(day, 3)
    number = (await _under_review(desk, day, due))["number"]
    await desk.travel(at(due, 17))
    still = (await desk.run("yuci.director", VIEW, number=number))["case"]
    assert still["status"] == "UNDER_REVIEW"

    await desk.travel(at(due + dt.timedelta(days=1), 9))
    late = await _hand_in(desk, "resident1", number, *TOLERATED)
    assert [(e["code"], e["field"]) for e in late["errors"]] == [
        ("TOLERANCE_DEADLINE_PASSED", ["input", "number"])
    ]
    case = late["case"]
    assert case["status"] == "TERMINATED"
    assert actions(case)[-2:] == ["TOLERANCE_NOTICE", "LAPSE_TOLERANCE"]
    assert case["tolerance"]["noticedAt"] and case["tolerance"]["lapsedAt"]
    assert sorted(case["tolerance"]["outstanding"]) == sorted(TOLERATED)
    # kept, though the hand-in was refused
    stored = (await desk.run("resident1", VIEW, number=number))["case"]
    assert stored["status"] == "TERMINATED"
    refused = await _approve(desk, number)
    assert codes(refused) == ["TOLERANCE_DEADLINE_PASSED"]
    assert actions(refused["case"]).count("LAPSE_TOLERANCE") == 1


async def test_tolerance_timers_of_the_worker_act_once(desk: Desk, nodes: NodeRegistry) -> None:
    from tests.scenarios.desk import fire_timers

    day = dt.date(2026, 7, 20)
    due = add_working_days(day, 2)
    number = (await _under_review(desk, day, due))["number"]
    after = at(due + dt.timedelta(days=1), 0)
    assert await fire_timers(nodes, after) >= 2
    await fire_timers(nodes, after + dt.timedelta(hours=1))
    await desk.travel(after + dt.timedelta(hours=2))
    case = (await desk.run("resident1", VIEW, number=number))["case"]
    assert case["status"] == "TERMINATED"
    assert actions(case).count("TOLERANCE_NOTICE") == 1
    assert actions(case).count("LAPSE_TOLERANCE") == 1


async def test_tolerance_override_by_a_director_with_a_reason_once(desk: Desk) -> None:
    day = dt.date(2026, 7, 27)
    due = add_working_days(day, 4)
    number = (await _under_review(desk, day, due))["number"]

    by_window = await desk.run(
        "yuci.receptionist", OVERRIDE, input={"number": number, "reason": "急需"}
    )
    assert codes(by_window["overrideTolerance"]) == ["ROLE_NOT_ALLOWED"]
    no_reason = (
        await desk.run("yuci.director", OVERRIDE, input={"number": number, "reason": " "})
    )["overrideTolerance"]
    assert [(e["code"], e["field"]) for e in no_reason["errors"]] == [
        ("REASONS_REQUIRED", ["input", "reason"])
    ]
    reason = "申请人住院，经入户核查生活无法自理，先行审批"
    done = (await desk.run("yuci.director", OVERRIDE, input={"number": number, "reason": reason}))[
        "overrideTolerance"
    ]
    assert done["errors"] == [], done
    promise = done["case"]["tolerance"]
    assert promise["overrideReason"] == reason and promise["overriddenBy"]
    assert actions(done["case"])[-1] == "OVERRIDE_TOLERANCE"
    twice = (await desk.run("yuci.director", OVERRIDE, input={"number": number, "reason": reason}))[
        "overrideTolerance"
    ]
    assert codes(twice) == ["TOLERANCE_ALREADY_OVERRIDDEN"]

    # the promise is waived: the day passing terminates nothing, and approval goes ahead
    await desk.travel(at(due + dt.timedelta(days=2), 10))
    approved = await _approve(desk, number)
    assert approved["errors"] == [] and approved["case"]["status"] == "APPROVED"
    assert "LAPSE_TOLERANCE" not in actions(approved["case"])


async def test_tolerance_consequence_stated_by_the_matter_revokes_acceptance(desk: Desk) -> None:
    day = dt.date(2026, 8, 3)
    due = add_working_days(day, 2)
    await desk.travel(at(day, 9))
    other = await _apply(desk, FOOD, "000100200100", due, toleranceConsequence="TERMINATE")
    assert [(e["code"], e["field"]) for e in other["errors"]] == [
        ("TOLERANCE_CONSEQUENCE_FIXED", ["input", "toleranceConsequence"])
    ]
    assert other["case"] is None
    applied = await _apply(desk, FOOD, "000100200100", due)
    assert applied["errors"] == [], applied
    number = applied["case"]["number"]
    assert applied["case"]["tolerance"]["consequence"] == "REVOKE_ACCEPTANCE"
    assert "撤销受理" in applied["case"]["tolerance"]["statement"]
    accepted = await desk.act("yuci.scj.receptionist", "acceptCase", number=number)
    assert accepted["errors"] == [] and accepted["case"]["clock"]["acceptedOn"]

    await desk.travel(at(due + dt.timedelta(days=1), 9))
    case = (await desk.run("resident1", VIEW, number=number))["case"]
    late = await _hand_in(desk, "resident1", number, *case["tolerance"]["materials"])
    assert codes(late) == ["TOLERANCE_DEADLINE_PASSED"]
    assert late["case"]["status"] == "TERMINATED"
    assert late["case"]["clock"]["acceptedOn"] is None
    assert late["case"]["clock"]["state"] == "STOPPED"


async def test_tolerance_approval_racing_the_hand_in_never_approves_without_it(
    desk: Desk,
) -> None:
    day = dt.date(2026, 8, 10)
    case = await _under_review(desk, day, add_working_days(day, 5))
    number = case["number"]
    await desk.sign_in("yuci.director")
    approve, hand_in = await asyncio.gather(
        _approve(desk, number), _hand_in(desk, "resident1", number, *TOLERATED)
    )
    assert hand_in["errors"] == [], hand_in
    final = (await desk.run("yuci.director", VIEW, number=number))["case"]
    steps = actions(final)
    if approve["errors"]:
        assert codes(approve) in (["TOLERANCE_OUTSTANDING"], ["VERSION_CONFLICT"])
        assert final["status"] == "UNDER_REVIEW"
    else:
        assert steps.index("HAND_IN_TOLERATED") < steps.index("DECIDE")
    # a decision made on the version before the hand-in does not go through
    if final["status"] == "UNDER_REVIEW":
        stale = await _approve(desk, number, expectedVersion=case["version"])
        assert codes(stale) == ["VERSION_CONFLICT"]
        assert (await _approve(desk, number))["errors"] == []
