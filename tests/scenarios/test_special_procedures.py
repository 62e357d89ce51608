"""特殊环节 (seed 000 "出具特殊环节通知书…时限…原则上不超过事项承诺办理时限"; seed 004 "特殊环节…
纳入电子监察系统管理"), over HTTP: the procedure shows on the case with its kind, basis,
limit, start and due day; a limit beyond the matter's promised limit needs an exception
reason; a procedure past its own limit gets yellow and red cards — on the next write
to the case as well as from the timer pass — and counts in supervision; ending it twice
is refused by name."""

from __future__ import annotations

import datetime as dt
from typing import Any

from gateway.nodes import NodeRegistry
from gateway.timers import fire_all
from levels.common.clock import FixedClock
from tests.scenarios.desk import (
    DISABILITY_CARD,
    YUCI_ORG,
    Desk,
    actions,
    add_working_days,
    at,
    fire_timers,
)

# days of their own (July 2026): no other scenario's cards are issued on them
START = dt.date(2026, 7, 6)  # a Monday
BASIS = "《残疾人残疾分类和分级》(GB/T 26341-2010)：须经指定医疗机构评定"
GUIDE_BASIS = "《残疾人残疾分类和分级》（GB/T 26341-2010）：残疾评定"  # the demo guide's
PROCEDURES = """query($number: String!) {
  case(number: $number) {
    status version clock { state dueOn }
    specialProcedures {
      kind basis limitDays startedOn dueOn endedOn exceptionReason overdue state
    }
    supervisionCards { color clock dueOn }
    timeline { action }
  }
}"""
START_PROCEDURE = """mutation($input: SpecialProcedureInput!) {
  startSpecialProcedure(input: $input) {
    case { status version specialProcedures { kind limitDays dueOn exceptionReason } }
    errors { code field }
  }
}"""
FIGURES = """query($from: Date!, $to: Date!) {
  supervision(divisionCode: "140702000000", from: $from, to: $to) {
    byOrg { orgCode figures { redCards proceduresOverdue } } } }"""


async def under_review(desk: Desk, day: dt.date) -> str:
    """A 残疾人证 application (promised 10 working days; its guide lists 鉴定, 10 days)
    accepted and under review on ``day``."""
    await desk.travel(at(day))
    materials = await desk.materials("000700400100")
    number: str = (await desk.submit("resident1", DISABILITY_CARD, materials))["case"]["number"]
    await desk.act("yuci.receptionist", "acceptCase", number=number)
    reviewed = await desk.act("yuci.reviewer", "startReview", number=number)
    assert reviewed["errors"] == [] and reviewed["case"]["status"] == "UNDER_REVIEW"
    return number


async def start(desk: Desk, number: str, **input: Any) -> dict[str, Any]:
    variables = {"input": {"number": number, "kind": "APPRAISAL", **input}}
    data = await desk.run("yuci.reviewer", START_PROCEDURE, **variables)
    payload: dict[str, Any] = data["startSpecialProcedure"]
    return payload


async def read(desk: Desk, number: str, who: str = "yuci.supervisor") -> dict[str, Any]:
    case: dict[str, Any] = (await desk.run(who, PROCEDURES, number=number))["case"]
    return case


async def red_figures(desk: Desk, day: dt.date) -> dict[str, int]:
    data = await desk.run(
        "yuci.supervisor", FIGURES, **{"from": day.isoformat(), "to": day.isoformat()}
    )
    rows = {r["orgCode"]: r["figures"] for r in data["supervision"]["byOrg"]}
    figures: dict[str, int] = rows.get(YUCI_ORG, {"redCards": 0, "proceduresOverdue": 0})
    return figures


async def test_seed_000_a_special_procedure_shows_its_kind_basis_limit_start_and_due_day(
    desk: Desk,
) -> None:
    number = await under_review(desk, START)
    started = await start(desk, number, basis=BASIS)
    assert started["errors"] == [] and started["case"]["status"] == "SPECIAL_PROCEDURE"
    due = add_working_days(START, 10)
    shown = await read(desk, number, "resident1")  # the applicant sees it too
    assert shown["specialProcedures"] == [
        {
            "kind": "APPRAISAL",
            "basis": BASIS,
            "limitDays": 10,  # the guide's
            "startedOn": START.isoformat(),
            "dueOn": due.isoformat(),
            "endedOn": None,
            "exceptionReason": None,
            "overdue": False,
            "state": "GREEN",
        }
    ]
    # the case clock stops while it runs
    assert shown["clock"]["state"] == "STOPPED"
    await desk.travel(at(add_working_days(START, 3)))
    ended = await desk.act("yuci.reviewer", "finishSpecialProcedure", number=number)
    assert ended["errors"] == [] and ended["case"]["status"] == "UNDER_REVIEW"
    past = (await read(desk, number))["specialProcedures"]
    assert [(p["endedOn"], p["state"], p["overdue"]) for p in past] == [
        (add_working_days(START, 3).isoformat(), "STOPPED", False)
    ]
    # a second one is listed after the first, the running one last
    again = await start(desk, number, limitDays=4, basis="复核鉴定")
    assert again["errors"] == []
    listed = (await read(desk, number))["specialProcedures"]
    assert [(p["limitDays"], p["endedOn"] is None) for p in listed] == [(10, False), (4, True)]


async def test_seed_000_a_procedure_limit_beyond_the_promised_limit_needs_an_exception_reason(
    desk: Desk,
) -> None:
    number = await under_review(desk, START + dt.timedelta(days=1))
    refused = await start(desk, number, limitDays=15)
    assert [e["code"] for e in refused["errors"]] == ["PROCEDURE_LIMIT_EXCEEDS_PROMISE"]
    assert refused["errors"][0]["field"] == ["input", "limitDays"]
    for bad in (0, -3):
        invalid = await start(desk, number, limitDays=bad)
        assert [e["code"] for e in invalid["errors"]] == ["INVALID_DEADLINE"]
    # nothing was written by the refusals
    case = await read(desk, number)
    assert case["status"] == "UNDER_REVIEW" and case["specialProcedures"] == []
    # exactly the promised limit needs no reason
    assert (await start(desk, number, limitDays=10))["errors"] == []
    await desk.act("yuci.reviewer", "finishSpecialProcedure", number=number)
    reason = "鉴定机构排期已满，经分管领导批准延长"
    allowed = await start(desk, number, limitDays=15, exceptionReason=reason)
    assert allowed["errors"] == []
    assert allowed["case"]["specialProcedures"][-1]["exceptionReason"] == reason
    assert allowed["case"]["specialProcedures"][-1]["limitDays"] == 15


async def test_seed_004_a_procedure_past_its_limit_is_carded_on_the_next_write(
    desk: Desk, nodes: NodeRegistry
) -> None:
    begun = START + dt.timedelta(days=2)
    number = await under_review(desk, begun)
    assert (await start(desk, number, basis=BASIS))["errors"] == []
    due = add_working_days(begun, 10)
    late = add_working_days(begun, 60)  # 60 working days into a 10-day appraisal
    before = await red_figures(desk, late)
    await desk.travel(at(late))
    # no pass has run: ending it now gives it its cards first, then ends it
    ended = await desk.act("yuci.reviewer", "finishSpecialProcedure", number=number)
    assert ended["errors"] == []
    case = await read(desk, number)
    assert actions(case)[-3:] == [
        "SPECIAL_PROCEDURE_YELLOW_CARD",
        "SPECIAL_PROCEDURE_RED_CARD",
        "FINISH_SPECIAL",
    ]
    assert case["supervisionCards"] == [
        {"color": "YELLOW", "clock": "SPECIAL_PROCEDURE", "dueOn": due.isoformat()},
        {"color": "RED", "clock": "SPECIAL_PROCEDURE", "dueOn": due.isoformat()},
    ]
    assert [(p["overdue"], p["state"]) for p in case["specialProcedures"]] == [(True, "STOPPED")]
    # supervision counts it, on the day the card was issued
    after = await red_figures(desk, late)
    assert after["proceduresOverdue"] == before["proceduresOverdue"] + 1
    assert after["redCards"] == before["redCards"] + 1
    # the pass finds nothing left to do
    await fire_timers(nodes, at(late + dt.timedelta(days=1)))
    assert (await read(desk, number))["supervisionCards"] == case["supervisionCards"]


async def test_seed_004_the_timer_pass_cards_a_running_procedure_yellow_then_red(
    desk: Desk, nodes: NodeRegistry
) -> None:
    begun = START + dt.timedelta(days=3)
    number = await under_review(desk, begun)
    assert (await start(desk, number, limitDays=5))["errors"] == []
    yellow_day = add_working_days(begun, 4)  # 4 of 5 days used: 80 %
    due = add_working_days(begun, 5)
    await fire_timers(nodes, at(add_working_days(begun, 3), 9))
    assert (await read(desk, number))["supervisionCards"] == []
    await fire_timers(nodes, at(yellow_day, 0) + dt.timedelta(minutes=1))
    await desk.travel(at(yellow_day))
    case = await read(desk, number)
    assert [c["color"] for c in case["supervisionCards"]] == ["YELLOW"]
    assert case["specialProcedures"][0]["state"] == "YELLOW"
    # no basis given: the guide's
    assert case["specialProcedures"][0]["basis"] == GUIDE_BASIS
    day_after = due + dt.timedelta(days=1)
    await fire_timers(nodes, at(day_after, 0) + dt.timedelta(minutes=1))
    await desk.travel(at(day_after))
    case = await read(desk, number)
    assert [c["color"] for c in case["supervisionCards"]] == ["YELLOW", "RED"]
    assert case["specialProcedures"][0]["state"] == "RED"
    assert case["specialProcedures"][0]["overdue"] is True
    # the case's own clock is suspended: no card against it
    assert {c["clock"] for c in case["supervisionCards"]} == {"SPECIAL_PROCEDURE"}


async def test_seed_000_ending_a_procedure_twice_is_refused(desk: Desk) -> None:
    number = await under_review(desk, START + dt.timedelta(days=4))
    never = await desk.act("yuci.reviewer", "finishSpecialProcedure", number=number)
    assert [e["code"] for e in never["errors"]] == ["NO_PROCEDURE_RUNNING"]
    assert (await start(desk, number))["errors"] == []
    first = await desk.act("yuci.reviewer", "finishSpecialProcedure", number=number)
    assert first["errors"] == []
    version = first["case"]["version"]
    twice = await desk.act("yuci.reviewer", "finishSpecialProcedure", number=number)
    assert [e["code"] for e in twice["errors"]] == ["NO_PROCEDURE_RUNNING"]
    case = await read(desk, number)
    assert case["version"] == version and actions(case).count("FINISH_SPECIAL") == 1


async def test_seed_004_a_procedure_s_cards_do_not_stand_in_for_the_case_clock_s(
    desk: Desk, nodes: NodeRegistry
) -> None:
    begun = START + dt.timedelta(days=7)  # a Monday
    number = await under_review(desk, begun)
    assert (await start(desk, number, limitDays=2))["errors"] == []
    # the procedure runs 3 working days over its 2: yellow and red against it
    ended_on = add_working_days(begun, 5)
    await desk.travel(at(ended_on))
    assert (await desk.act("yuci.reviewer", "finishSpecialProcedure", number=number))[
        "errors"
    ] == []
    # the case clock resumes: 10 working days, none used before the procedure
    due = add_working_days(ended_on, 10)
    assert (await read(desk, number))["clock"]["dueOn"] == due.isoformat()
    await fire_all(nodes, FixedClock(at(due + dt.timedelta(days=1), 8)))
    case = await read(desk, number)
    assert [(c["clock"], c["color"]) for c in case["supervisionCards"]] == [
        ("SPECIAL_PROCEDURE", "YELLOW"),
        ("SPECIAL_PROCEDURE", "RED"),
        ("HANDLING", "YELLOW"),
        ("HANDLING", "RED"),
    ]
    assert actions(case)[-2:] == ["YELLOW_CARD", "RED_CARD"]
