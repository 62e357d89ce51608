"""The life of a case at the 榆次区 service centre, over HTTP as the real roles, with
clocks that cross the National Day holiday of 2026 (chinesecalendar's schedule)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import chinese_calendar
from sqlalchemy import func, select

from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.audit.chain import verify_chain
from levels.cases.models import Case
from levels.common.enums import Level
from tests.auth.conftest import bearer, signed_in
from tests.scenarios.desk import (
    BIRTH_REGISTRATION,
    CASE,
    DISABILITY_CARD,
    DISABILITY_LICENCE,
    SUBMIT,
    YUCI_ORG,
    Desk,
    actions,
    add_working_days,
    at,
    fire_timers,
)


async def test_approve_deliver_archive_with_a_special_procedure_across_national_day(
    desk: Desk, nodes: NodeRegistry
) -> None:
    received = dt.date(2026, 9, 29)
    await desk.travel(at(received))
    materials = await desk.materials("000700400100")
    submitted = await desk.submit("resident1", DISABILITY_CARD, materials)
    assert submitted["errors"] == []
    case = submitted["case"]
    number = case["number"]
    assert number.startswith("140702000000-20260929-")
    assert case["status"] == "SUBMITTED" and case["clock"]["state"] == "STOPPED"
    assert case["applicantIdMasked"].startswith("1407") and "*" in case["applicantIdMasked"]
    assert {m["state"] for m in case["materials"]} == {"PROVIDED"}

    accepted = await desk.act("yuci.receptionist", "acceptCase", number=number)
    case = accepted["case"]
    due = add_working_days(received, 10)
    assert case["status"] == "ACCEPTED" and case["clock"]["acceptedOn"] == "2026-09-29"
    # ten working days, but National Day's week off lies in between
    assert case["clock"]["dueOn"] == due.isoformat() and due > dt.date(2026, 10, 13)
    assert case["clock"]["state"] == "GREEN" and case["clock"]["provisional"] is False
    # working days, not calendar days: the holiday week is not counted
    assert case["clock"]["workingDaysLeft"] == 10 < (due - received).days

    await desk.act("yuci.reviewer", "startReview", number=number)
    await desk.travel(at(dt.date(2026, 10, 9)))
    special = await desk.act(
        "yuci.reviewer", "startSpecialProcedure", number=number, kind="APPRAISAL"
    )
    assert special["case"]["status"] == "SPECIAL_PROCEDURE"
    assert special["case"]["clock"]["state"] == "STOPPED"
    await desk.travel(at(dt.date(2026, 10, 14)))
    finished = await desk.act("yuci.reviewer", "finishSpecialProcedure", number=number)
    suspended = sum(
        1
        for d in range(1, 6)
        if chinese_calendar.is_workday(dt.date(2026, 10, 9) + dt.timedelta(days=d))
    )
    assert suspended >= 2
    assert (
        finished["case"]["clock"]["dueOn"] == add_working_days(received, 10 + suspended).isoformat()
    )

    # the 残疾人证 it issues needs its category and grade: without them nothing changes
    short = await desk.act("yuci.director", "decideCase", number=number, decision="APPROVED")
    assert [e["code"] for e in short["errors"]] == ["LICENCE_FIELD_REQUIRED"]
    assert short["case"] is None
    decided = await desk.act(
        "yuci.director",
        "decideCase",
        number=number,
        decision="APPROVED",
        licenceFields=DISABILITY_LICENCE,
    )
    assert decided["case"]["status"] == "APPROVED" and decided["case"]["remedy"] is None
    delivered = await desk.act(
        "yuci.output", "deliverCase", number=number, method="PICKUP", reference="QJ-0001"
    )
    assert delivered["case"]["status"] == "DELIVERED"
    archived = await desk.act("yuci.output", "archiveCase", number=number)
    assert archived["case"]["status"] == "ARCHIVED"
    assert actions(archived["case"]) == [
        "SUBMIT",
        "ACCEPT",
        "START_REVIEW",
        "START_SPECIAL",
        "FINISH_SPECIAL",
        "DECIDE",
        "DELIVER",
        "ARCHIVE",
    ]
    # the applicant finds it among "my cases" on the phone
    mine = await desk.run("resident1", "{ cases(first: 100) { edges { node { number status } } } }")
    assert {"number": number, "status": "ARCHIVED"} in [e["node"] for e in mine["cases"]["edges"]]
    async with nodes[Level.COUNTY].sessions() as session:
        assert (await verify_chain(session=session, level="COUNTY")).valid


async def test_notice_then_supplement_then_accept(desk: Desk) -> None:
    received = dt.date(2026, 11, 16)
    await desk.travel(at(received))
    materials = await desk.materials("000700400100")
    submitted = await desk.submit("resident1", DISABILITY_CARD, materials[:-1])
    number = submitted["case"]["number"]
    missing = [m for m in submitted["case"]["materials"] if m["state"] == "MISSING"]
    assert [m["name"] for m in missing] == [materials[-1]]

    notice = await desk.act(
        "yuci.receptionist",
        "issueSupplementNotice",
        number=number,
        materials=[{"name": materials[0], "note": "申请表未签字"}],
    )
    case = notice["case"]
    assert case["status"] == "AWAITING_SUPPLEMENT"
    # one notice lists everything: the incorrect one and the missing one
    states = {m["name"]: m["state"] for m in case["materials"]}
    assert states[materials[0]] == "INCORRECT" and states[materials[-1]] == "MISSING"
    assert case["supplementDeadline"] == add_working_days(received, 5).isoformat()

    await desk.travel(at(dt.date(2026, 11, 18)))
    partial = await desk.act(
        "resident1",
        "supplementMaterials",
        number=number,
        materials=[{"name": materials[0], "source": "FILE", "reference": "file-signed"}],
    )
    assert [e["code"] for e in partial["errors"]] == ["SUPPLEMENT_INCOMPLETE"]
    done = await desk.act(
        "resident1",
        "supplementMaterials",
        number=number,
        materials=[
            {"name": materials[0], "source": "FILE", "reference": "file-signed"},
            {"name": materials[-1], "source": "PAPER"},
        ],
    )
    case = done["case"]
    assert case["status"] == "ACCEPTED"
    # the clock starts on the day the file was complete
    assert case["clock"]["acceptedOn"] == "2026-11-18"
    assert case["clock"]["dueOn"] == add_working_days(dt.date(2026, 11, 18), 10).isoformat()


async def test_notice_without_supplement_closes_the_case(desk: Desk, nodes: NodeRegistry) -> None:
    received = dt.date(2026, 9, 28)
    await desk.travel(at(received))
    materials = await desk.materials("000700400100")
    number = (await desk.submit("resident1", DISABILITY_CARD, materials[:-1]))["case"]["number"]
    notice = await desk.act(
        "yuci.receptionist", "issueSupplementNotice", number=number, materials=[], deadlineDays=3
    )
    deadline = dt.date.fromisoformat(notice["case"]["supplementDeadline"])
    assert deadline == add_working_days(received, 3) and deadline > dt.date(2026, 10, 1)
    await fire_timers(nodes, at(deadline, 23))
    still = await desk.run("yuci.receptionist", CASE, number=number)
    assert still["case"]["status"] == "AWAITING_SUPPLEMENT"
    await fire_timers(nodes, at(deadline + dt.timedelta(days=1), 0))
    closed = await desk.run("yuci.receptionist", CASE, number=number)
    assert closed["case"]["status"] == "CLOSED_UNSUPPLEMENTED"
    assert actions(closed["case"])[-1] == "CLOSE_UNSUPPLEMENTED"
    # firing again changes nothing (the timer fired once)
    assert await fire_timers(nodes, at(deadline + dt.timedelta(days=2))) >= 0
    again = await desk.run("yuci.receptionist", CASE, number=number)
    assert actions(again["case"]) == actions(closed["case"])


async def test_no_notice_within_three_working_days_means_accepted(
    desk: Desk, nodes: NodeRegistry
) -> None:
    received = dt.date(2026, 9, 30)
    await desk.travel(at(received))
    materials = await desk.materials("000700400100")
    number = (await desk.submit("resident1", DISABILITY_CARD, materials))["case"]["number"]
    deadline = add_working_days(received, 3)
    assert deadline > dt.date(2026, 10, 8)  # the holiday does not count
    await fire_timers(nodes, at(deadline, 18))
    assert (await desk.run("resident1", CASE, number=number))["case"]["status"] == "SUBMITTED"
    await fire_timers(nodes, at(deadline + dt.timedelta(days=1), 0))
    case = (await desk.run("resident1", CASE, number=number))["case"]
    assert case["status"] == "ACCEPTED"
    assert case["clock"]["deemedAccepted"] is True
    assert case["clock"]["acceptedOn"] == "2026-09-30"  # from the day it was received
    assert case["timeline"][-1]["actorKind"] == "SYSTEM"


async def test_reject_for_wrong_jurisdiction_names_the_authority(desk: Desk) -> None:
    await desk.travel(at(dt.date(2026, 11, 20)))
    materials = await desk.materials("000700400100")
    number = (await desk.submit("resident1", DISABILITY_CARD, materials))["case"]["number"]
    missing = await desk.act(
        "yuci.receptionist", "rejectCase", number=number, reason="NOT_OUR_JURISDICTION"
    )
    assert [e["code"] for e in missing["errors"]] == ["AUTHORITY_REQUIRED"]
    proposed = await desk.act(
        "yuci.receptionist",
        "rejectCase",
        number=number,
        reason="NOT_OUR_JURISDICTION",
        authority="太谷区残疾人联合会",
    )
    assert proposed["case"]["status"] == "SUBMITTED" and proposed["case"]["rejectionPending"]
    # 窗口无否决权: it takes effect once the department head approves it
    rejected = await desk.act("yuci.director", "approveRejection", number=number)
    case = rejected["case"]
    assert case["status"] == "REJECTED" and case["rejectionPending"] is False
    assert case["rejectionReason"] == "NOT_OUR_JURISDICTION"
    assert case["rejectionAuthority"] == "太谷区残疾人联合会"


async def test_immediate_matters_complete_on_the_spot(desk: Desk) -> None:
    await desk.travel(at(dt.date(2026, 11, 20)))
    materials = await desk.materials("000700800200")
    number = (await desk.submit("resident1", BIRTH_REGISTRATION, materials))["case"]["number"]
    done = await desk.act("yuci.receptionist", "completeCase", number=number)
    assert done["case"]["status"] == "COMPLETED"
    assert actions(done["case"]) == ["SUBMIT", "COMPLETE"]  # no acceptance notice
    other = await desk.submit("resident1", DISABILITY_CARD, await desk.materials("000700400100"))
    refused = await desk.act("yuci.receptionist", "completeCase", number=other["case"]["number"])
    assert [e["code"] for e in refused["errors"]] == ["NOT_IMMEDIATE"]


async def test_deny_with_reasons_and_the_right_to_appeal(desk: Desk) -> None:
    await desk.travel(at(dt.date(2026, 11, 20)))
    materials = await desk.materials("000700400100")
    number = (await desk.submit("resident1", DISABILITY_CARD, materials))["case"]["number"]
    await desk.act("yuci.receptionist", "acceptCase", number=number)
    await desk.act("yuci.reviewer", "startReview", number=number)
    bare = await desk.act("yuci.director", "decideCase", number=number, decision="DENIED")
    assert [e["code"] for e in bare["errors"]] == ["REASONS_REQUIRED"]
    denied = await desk.act(
        "yuci.director",
        "decideCase",
        number=number,
        decision="DENIED",
        reasons="经评定，残疾等级未达到发证标准",
    )
    case = denied["case"]
    assert case["status"] == "DENIED" and case["decisionReasons"].startswith("经评定")
    assert "行政复议" in case["remedy"] and "行政诉讼" in case["remedy"]
    mailed = await desk.act(
        "yuci.output", "deliverCase", number=number, method="MAIL", reference=""
    )
    assert [e["code"] for e in mailed["errors"]] == ["DELIVERY_REFERENCE_REQUIRED"]
    overlong = await desk.act(
        "yuci.output", "deliverCase", number=number, method="MAIL", reference="E" * 65
    )
    assert [e["code"] for e in overlong["errors"]] == ["TEXT_TOO_LONG"]


async def test_withdraw_is_the_applicants_alone(desk: Desk) -> None:
    await desk.travel(at(dt.date(2026, 11, 20)))
    materials = await desk.materials("000700400100")
    number = (await desk.submit("resident1", DISABILITY_CARD, materials))["case"]["number"]
    staff = await desk.act("yuci.receptionist", "withdrawCase", number=number)
    assert [e["code"] for e in staff["errors"]] == ["ROLE_NOT_ALLOWED"]
    withdrawn = await desk.act("resident1", "withdrawCase", number=number)
    assert withdrawn["case"]["status"] == "WITHDRAWN"
    late = await desk.act("resident1", "withdrawCase", number=number)
    assert [e["code"] for e in late["errors"]] == ["INVALID_TRANSITION"]


async def test_each_step_by_its_own_post_and_in_order(
    desk: Desk, settings: Settings, nodes: NodeRegistry
) -> None:
    await desk.travel(at(dt.date(2026, 11, 20)))
    materials = await desk.materials("000700400100")
    number = (await desk.submit("resident1", DISABILITY_CARD, materials))["case"]["number"]
    wrong_role = await desk.act("yuci.director", "acceptCase", number=number)
    assert [e["code"] for e in wrong_role["errors"]] == ["ROLE_NOT_ALLOWED"]
    out_of_order = await desk.act("yuci.director", "decideCase", number=number, decision="APPROVED")
    assert [e["code"] for e in out_of_order["errors"]] == ["INVALID_TRANSITION"]
    await desk.sign_in("taigu.reviewer")
    elsewhere = await desk.act("taigu.reviewer", "startReview", number=number)
    assert [e["code"] for e in elsewhere["errors"]] == ["CASE_NOT_FOUND"]
    # another county's staff: the case does not exist for them, nor is their read audited
    body = await desk.hub.gql(CASE, {"number": number}, **bearer(desk.tokens["taigu.reviewer"]))
    assert body == {"data": {"case": None}}
    # nor for nobody signed in: the same answer as for a number nobody holds
    anonymous = await desk.hub.gql(CASE, {"number": number})
    assert anonymous == {"data": {"case": None}}
    unheld = number[:-5] + "99999"
    assert await desk.hub.gql(CASE, {"number": unheld}) == anonymous
    case = (await desk.run("resident1", CASE, number=number))["case"]
    assert case["status"] == "SUBMITTED" and actions(case) == ["SUBMIT"]


async def test_two_staff_at_once_exactly_one_wins(desk: Desk, nodes: NodeRegistry) -> None:
    await desk.travel(at(dt.date(2026, 11, 20)))
    materials = await desk.materials("000700400100")
    number = (await desk.submit("resident1", DISABILITY_CARD, materials))["case"]["number"]
    accept, reject = await asyncio.gather(
        desk.act("yuci.receptionist", "acceptCase", number=number, expectedVersion=1),
        desk.act(
            "yuci.receptionist",
            "rejectCase",
            number=number,
            reason="NOT_REQUIRED",
            expectedVersion=1,
        ),
    )
    outcomes = [p for p in (accept, reject) if p["errors"] == []]
    losers = [p for p in (accept, reject) if p["errors"]]
    assert len(outcomes) == 1 and len(losers) == 1
    assert losers[0]["errors"][0]["code"] in {"VERSION_CONFLICT", "INVALID_TRANSITION"}
    case = (await desk.run("resident1", CASE, number=number))["case"]
    assert len(case["timeline"]) == 2 and case["version"] == 2
    async with nodes[Level.COUNTY].sessions() as session:
        assert (await verify_chain(session=session, level="COUNTY")).valid


async def test_bad_input_changes_nothing(desk: Desk, nodes: NodeRegistry) -> None:
    await desk.travel(at(dt.date(2026, 11, 20)))
    async with nodes[Level.COUNTY].sessions() as session:
        before = await session.scalar(select(func.count()).select_from(Case))
    materials = await desk.materials("000700400100")
    cases = [
        ({"implementationCode": "not-a-code"}, "INVALID_IMPLEMENTATION_CODE"),
        ({"implementationCode": f"{YUCI_ORG}2999999999999"}, "IMPLEMENTATION_NOT_IN_FORCE"),
    ]
    for extra, code in cases:
        payload = await desk.submit("resident1", DISABILITY_CARD, materials, **extra)
        assert [e["code"] for e in payload["errors"]] == [code]
    odd = await desk.submit("resident1", DISABILITY_CARD, [*materials, "一份不存在的材料"])
    assert [e["code"] for e in odd["errors"]] == ["MATERIAL_NOT_IN_GUIDE"]
    assert odd["errors"][0]["field"] == ["input", "materials", str(len(materials)), "name"]
    long_ref = [{"name": materials[0], "source": "FILE", "reference": "f" * 300}]
    payload = await desk.run(
        "resident1",
        SUBMIT,
        input={"implementationCode": DISABILITY_CARD, "channel": "MOBILE", "materials": long_ref},
    )
    assert [e["code"] for e in payload["submitCase"]["errors"]] == ["TEXT_TOO_LONG"]
    counter = await desk.run(
        "yuci.receptionist",
        SUBMIT,
        input={
            "implementationCode": DISABILITY_CARD,
            "channel": "COUNTER",
            "materials": [],
            "applicantIdNumber": "140702200001011234",
        },
    )
    assert [e["code"] for e in counter["submitCase"]["errors"]] == ["INVALID_ID_NUMBER"]
    bad_number = await desk.act("yuci.receptionist", "acceptCase", number="1407-2026-1")
    assert [e["code"] for e in bad_number["errors"]] == ["INVALID_CASE_NUMBER"]
    async with nodes[Level.COUNTY].sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Case)) == before


async def test_the_demo_has_a_case_in_every_state_some_yellow_and_red(gql: Any, app: Any) -> None:
    token = (await signed_in(gql, "yuci.auditor"))["accessToken"]
    query = """query($after: String) { cases(first: 100, after: $after) {
      edges { node { number status clock { state } } } pageInfo { hasNextPage endCursor } } }"""
    seen: list[dict[str, Any]] = []
    after = None
    while True:
        body = await gql(query, {"after": after}, **bearer(token))
        page = body["data"]["cases"]
        seen += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # the demo's cases (the other tests here receive theirs on other days)
    demo_days = {"20260915", "20261012", "20261020", "20261021", "20261026", "20261027"}
    demo_days |= {f"202611{d:02d}" for d in (6, 10, 11, 12, 13, 17, 18, 19)}
    demo = [c for c in seen if c["number"].split("-")[1] in demo_days]
    assert len(demo) >= 14
    statuses = {c["status"] for c in demo}
    assert statuses >= {
        "SUBMITTED",
        "AWAITING_SUPPLEMENT",
        "ACCEPTED",
        "UNDER_REVIEW",
        "SPECIAL_PROCEDURE",
        "APPROVED",
        "DENIED",
        "DELIVERED",
        "ARCHIVED",
        "COMPLETED",
        "REJECTED",
        "WITHDRAWN",
        "CLOSED_UNSUPPLEMENTED",
    }
    clocks = {c["clock"]["state"] for c in demo}
    assert {"GREEN", "YELLOW", "RED"} <= clocks
