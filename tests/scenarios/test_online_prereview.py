"""网上预审 within 2 working days (seed 001 "收到网上申请后应于2个工作日…内将预审结果…告知"),
over HTTP: an application made online (WEB, MOBILE) gets a pre-review clock of 2
working days; the receptionist records the result — passed, or every material missing
— and the applicant reads what they were told on the case; a pre-review left past its
due day gets yellow and red cards on the next write as from the timer pass, is flagged,
and counts in supervision."""

from __future__ import annotations

import datetime as dt
from typing import Any

from gateway.demo.accounts import resident_id_number
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

# days of their own (August 2026): no other scenario's cards are issued on them
RECEIVED = dt.date(2026, 8, 3)  # a Monday
PRE_REVIEW = """query($number: String!) {
  case(number: $number) {
    status version channel
    preReview { dueOn state overdue result missing { name note } message givenAt }
    supervisionCards { color clock dueOn }
    timeline { action }
  }
}"""
RECORD = """mutation($input: RecordPreReviewInput!) {
  recordPreReview(input: $input) {
    case { status version preReview { result overdue state message } timeline { action } }
    errors { code field }
  }
}"""
OVERDUE = """query($day: Date!) {
  cases(filter: {preReviewOverdue: true, submittedFrom: $day, submittedTo: $day}, first: 10) {
    edges { node { number } } } }"""
FIGURES = """query($from: Date!, $to: Date!) {
  supervision(divisionCode: "140702000000", from: $from, to: $to) {
    byOrg { orgCode figures { redCards preReviewsOverdue } } } }"""


async def online(desk: Desk, day: dt.date) -> tuple[str, list[str]]:
    """An application resident1 makes in the app on ``day``, its last material missing."""
    await desk.travel(at(day))
    materials = await desk.materials("000700400100")
    submitted = await desk.submit("resident1", DISABILITY_CARD, materials[:-1])
    assert submitted["case"]["status"] == "SUBMITTED"
    return submitted["case"]["number"], materials


async def record(desk: Desk, number: str, who: str = "yuci.receptionist", **input: Any) -> Any:
    data = await desk.run(who, RECORD, input={"number": number, **input})
    return data["recordPreReview"]


async def read(desk: Desk, number: str, who: str = "yuci.supervisor") -> dict[str, Any]:
    case: dict[str, Any] = (await desk.run(who, PRE_REVIEW, number=number))["case"]
    return case


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


async def figures(desk: Desk, day: dt.date) -> dict[str, int]:
    span = {"from": day.isoformat(), "to": day.isoformat()}
    data = await desk.run("yuci.supervisor", FIGURES, **span)
    rows = {r["orgCode"]: r["figures"] for r in data["supervision"]["byOrg"]}
    found: dict[str, int] = rows.get(YUCI_ORG, {"redCards": 0, "preReviewsOverdue": 0})
    return found


async def test_seed_001_an_online_application_is_told_its_pre_review_result(desk: Desk) -> None:
    number, materials = await online(desk, RECEIVED)
    waiting = await read(desk, number, "resident1")
    assert waiting["channel"] == "MOBILE"
    assert waiting["preReview"] == {
        "dueOn": add_working_days(RECEIVED, 2).isoformat(),
        "state": "GREEN",
        "overdue": False,
        "result": None,
        "missing": [],
        "message": None,
        "givenAt": None,
    }
    missing = [{"name": materials[-1], "note": "须提供二级以上医院诊断证明"}]
    given = await record(desk, number, result="INCOMPLETE", missing=missing)
    assert given["errors"] == []
    assert given["case"]["status"] == "SUBMITTED"  # not taken up yet
    assert actions(given["case"])[-1] == "PRE_REVIEW"
    # the applicant reads what they were told, over the API
    told = (await read(desk, number, "resident1"))["preReview"]
    assert told["result"] == "INCOMPLETE" and told["state"] == "STOPPED"
    assert told["missing"] == missing
    assert "预审未通过" in told["message"] and materials[-1] in told["message"]
    assert "须提供二级以上医院诊断证明" in told["message"] and number in told["message"]
    # given once
    again = await record(desk, number, result="PASSED")
    assert codes(again) == ["PRE_REVIEW_ALREADY_GIVEN"]


async def test_seed_001_a_passed_pre_review_is_told_and_earns_no_card(
    desk: Desk, nodes: NodeRegistry
) -> None:
    number, _ = await online(desk, RECEIVED + dt.timedelta(days=1))
    assert (await record(desk, number, result="PASSED"))["errors"] == []
    told = (await read(desk, number, "resident1"))["preReview"]
    assert told["result"] == "PASSED" and "已通过预审" in told["message"]
    # in time: the pass gives no card, however late it runs
    await fire_timers(nodes, at(add_working_days(RECEIVED, 6)))
    assert (await read(desk, number))["supervisionCards"] == []


async def test_seed_001_a_pre_review_lists_what_is_missing_or_nothing(desk: Desk) -> None:
    number, materials = await online(desk, RECEIVED + dt.timedelta(days=2))
    nothing_listed = await record(desk, number, result="INCOMPLETE", missing=[])
    assert codes(nothing_listed) == ["PRE_REVIEW_LIST_MISMATCH"]
    passed_with_list = await record(desk, number, result="PASSED", missing=[{"name": materials[0]}])
    assert codes(passed_with_list) == ["PRE_REVIEW_LIST_MISMATCH"]
    unknown = await record(desk, number, result="INCOMPLETE", missing=[{"name": "户口本原件"}])
    assert codes(unknown) == ["MATERIAL_NOT_IN_GUIDE"]
    assert unknown["errors"][0]["field"] == ["input", "missing", "0", "name"]
    # the applicant does not pre-review their own application
    body = await desk.ask(
        "resident1", RECORD, input={"number": number, "result": "PASSED", "missing": []}
    )
    assert codes(body["data"]["recordPreReview"]) == ["ROLE_NOT_ALLOWED"]
    case = await read(desk, number)
    assert case["preReview"]["result"] is None and "PRE_REVIEW" not in actions(case)


async def test_seed_001_only_an_online_application_is_pre_reviewed(desk: Desk) -> None:
    await desk.travel(at(RECEIVED + dt.timedelta(days=3)))
    materials = await desk.materials("000700400100")
    counter = await desk.submit(
        "yuci.receptionist",
        DISABILITY_CARD,
        materials,
        channel="COUNTER",
        applicantIdNumber=resident_id_number(0),
    )
    number = counter["case"]["number"]
    assert (await read(desk, number))["preReview"] is None
    refused = await record(desk, number, result="PASSED")
    assert codes(refused) == ["NOT_AN_ONLINE_APPLICATION"]


async def test_seed_001_a_pre_review_after_its_deadline_comes_after_its_cards(
    desk: Desk, nodes: NodeRegistry
) -> None:
    received = RECEIVED + dt.timedelta(days=7)  # a Monday
    number, materials = await online(desk, received)
    due = add_working_days(received, 2)
    late = add_working_days(received, 3)  # before the 3-day deemed acceptance falls
    before = await figures(desk, late)
    await desk.travel(at(late, 9))
    # no pass has run: the write cards the late pre-review first, and flags it — the
    # version read before is stale, and the answer shows the flagged case
    stale = await record(desk, number, result="PASSED", expectedVersion=1)
    assert codes(stale) == ["VERSION_CONFLICT"]
    flagged = stale["case"]
    assert flagged["preReview"]["overdue"] is True and flagged["preReview"]["state"] == "RED"
    assert flagged["preReview"]["result"] is None
    given = await record(
        desk, number, result="INCOMPLETE", missing=[{"name": materials[-1]}], expectedVersion=2
    )
    assert given["errors"] == []
    case = await read(desk, number, "resident1")
    assert actions(case) == [
        "SUBMIT",
        "PRE_REVIEW_YELLOW_CARD",
        "PRE_REVIEW_RED_CARD",
        "PRE_REVIEW",
    ]
    assert case["supervisionCards"] == [
        {"color": "YELLOW", "clock": "PRE_REVIEW", "dueOn": due.isoformat()},
        {"color": "RED", "clock": "PRE_REVIEW", "dueOn": due.isoformat()},
    ]
    # told late, but told; and it stays late
    assert case["preReview"]["result"] == "INCOMPLETE" and case["preReview"]["overdue"] is True
    after = await figures(desk, late)
    assert after["preReviewsOverdue"] == before["preReviewsOverdue"] + 1
    # and supervisors find it by its flag
    found = await desk.run("yuci.supervisor", OVERDUE, day=received.isoformat())
    assert [e["node"]["number"] for e in found["cases"]["edges"]] == [number]
    await fire_timers(nodes, at(late, 10))
    assert (await read(desk, number))["supervisionCards"] == case["supervisionCards"]


async def test_seed_001_the_timer_pass_cards_a_pre_review_left_waiting(
    desk: Desk, nodes: NodeRegistry
) -> None:
    received = RECEIVED + dt.timedelta(days=8)
    number, _ = await online(desk, received)
    due = add_working_days(received, 2)
    await fire_timers(nodes, at(add_working_days(received, 1), 12))
    assert (await read(desk, number))["supervisionCards"] == []
    await fire_timers(nodes, at(due, 0) + dt.timedelta(minutes=1))  # the last day: yellow
    assert [c["color"] for c in (await read(desk, number))["supervisionCards"]] == ["YELLOW"]
    await fire_timers(nodes, at(due + dt.timedelta(days=1), 0) + dt.timedelta(minutes=1))
    await desk.travel(at(due + dt.timedelta(days=1)))
    case = await read(desk, number)
    assert [c["color"] for c in case["supervisionCards"]] == ["YELLOW", "RED"]
    assert case["preReview"]["overdue"] is True and case["preReview"]["state"] == "RED"


async def test_seed_001_a_case_taken_up_is_no_longer_pre_reviewed(
    desk: Desk, nodes: NodeRegistry
) -> None:
    received = RECEIVED + dt.timedelta(days=9)
    number, _ = await online(desk, received)
    accepted = await desk.act("yuci.receptionist", "acceptCase", number=number)
    assert accepted["errors"] == []
    closed = await record(desk, number, result="PASSED")
    assert codes(closed) == ["PRE_REVIEW_CLOSED"]
    # the acceptance answered the application: its pre-review clock stopped, no card
    await fire_timers(nodes, at(add_working_days(received, 4)))
    await desk.travel(at(add_working_days(received, 4)))
    case = await read(desk, number)
    assert case["preReview"]["state"] == "STOPPED" and case["preReview"]["overdue"] is False
    assert [c for c in case["supervisionCards"] if c["clock"] == "PRE_REVIEW"] == []
