"""好差评 and 投诉 over HTTP as the real roles, at the 榆次区 centre around the 2026
May Day holiday (1–5 May; Saturday 9 May is a make-up working day): birth
registrations completed on the spot are rated on the phone and on the web; a 差评
opens a rectification whose deadline skips the holiday; the staff call back, appeal,
and a supervisor decides; complaints are filed, handled and rated; and the roll-up
counts what was rated, without the rating whose appeal was upheld."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from gateway.nodes import NodeRegistry
from levels.common.enums import Level
from levels.common.models import Window
from levels.evaluations.timers import flag_overdue
from resolvers.globalid import encode_id
from tests.auth.conftest import signed_in
from tests.scenarios.desk import BIRTH_REGISTRATION, DISABILITY_CARD, YUCI_ORG, Desk, at
from tests.scenarios.desk import add_working_days as reference_working_days

DAY = dt.date(2026, 4, 30)  # Thursday before the May Day holiday
RATED_FROM, RATED_TO = "2026-04-27", "2026-05-31"

EVALUATION = """
  id caseNumber channel rating negative comment staffId orgCode matterCode
  appealStatus appealNote
  rectification { id status dueOn overdue callbackNote measures }
"""
RATE = f"""
mutation($input: RateCaseInput!) {{
  rateCase(input: $input) {{ evaluation {{ {EVALUATION} }} errors {{ code field }} }}
}}"""
RECTIFICATION = "id caseNumber status dueOn overdue callbackBy callbackNote measures"
CALLBACK = f"""
mutation($input: RecordCallbackInput!) {{
  recordCallback(input: $input) {{ rectification {{ {RECTIFICATION} }} errors {{ code }} }}
}}"""
COMPLETE = f"""
mutation($input: CompleteRectificationInput!) {{
  completeRectification(input: $input) {{ rectification {{ {RECTIFICATION} }} errors {{ code }} }}
}}"""
APPEAL = f"""
mutation($input: AppealRatingInput!) {{
  appealRating(input: $input) {{ evaluation {{ {EVALUATION} }} errors {{ code }} }}
}}"""
DECIDE = f"""
mutation($input: DecideAppealInput!) {{
  decideAppeal(input: $input) {{ evaluation {{ {EVALUATION} }} errors {{ code }} }}
}}"""
OVERDUE = f"""
query {{ rectifications(filter: {{overdue: true}}) {{ {RECTIFICATION} }} }}"""
ROLLUP = """
query($by: RollupDimension!, $from: Date, $to: Date) {
  ratingRollup(by: $by, filter: {ratedFrom: $from, ratedTo: $to}) {
    key total verySatisfied satisfied basic dissatisfied veryDissatisfied negative negativeRate
  }
}"""
RATED = """
query($n: String!) {
  case(number: $n) { rateable ratings { channel rating rectification { status } } }
}"""
NODE = """
query($id: ID!) {
  node(id: $id) {
    ... on Evaluation { caseNumber rectification { id } }
    ... on Rectification { caseNumber }
    ... on Complaint { complaintCase: caseNumber }
  }
}"""
TRAIL = "query($n: String!) { auditTrail(caseNumber: $n) { events { action } } }"
CASE_TIMELINE = "query($n: String!) { case(number: $n) { timeline { action } } }"
COMPLAINT = """
  id caseNumber staffId orgCode status dueOn overdue handling satisfaction content
"""
FILE = f"""
mutation($input: FileComplaintInput!) {{
  fileComplaint(input: $input) {{ complaint {{ {COMPLAINT} }} errors {{ code field }} }}
}}"""
HANDLE = f"""
mutation($input: HandleComplaintInput!) {{
  handleComplaint(input: $input) {{ complaint {{ {COMPLAINT} }} errors {{ code }} }}
}}"""
SATISFACTION = f"""
mutation($input: RateComplaintHandlingInput!) {{
  rateComplaintHandling(input: $input) {{ complaint {{ {COMPLAINT} }} errors {{ code }} }}
}}"""
COMPLAINTS = f"""
query($number: String) {{ complaints(filter: {{caseNumber: $number}}) {{ {COMPLAINT} }} }}"""


async def _completed(desk: Desk) -> str:
    """A birth registration of resident1, completed on the spot at the counter."""
    materials = await desk.materials("000700800200")
    number: str = (await desk.submit("resident1", BIRTH_REGISTRATION, materials))["case"]["number"]
    done = await desk.act("yuci.receptionist", "completeCase", number=number)
    assert done["case"]["status"] == "COMPLETED", done
    return number


async def _on_web(desk: Desk, name: str) -> str:
    """``name`` signed in a second time, on the web portal."""
    who = f"{name}@web"
    token = (await signed_in(desk.hub.gql, name, "WEB"))["accessToken"]
    desk.tokens[who] = token
    desk.viewers[who] = await desk.hub.app.state.identity.authenticate(token)
    return who


async def _rate(desk: Desk, who: str, number: str, rating: str, **extra: Any) -> dict[str, Any]:
    input = {"caseNumber": number, "rating": rating, **extra}
    payload: dict[str, Any] = (await desk.run(who, RATE, input=input))["rateCase"]
    return payload


async def _do(desk: Desk, who: str, mutation: str, name: str, **input: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await desk.run(who, mutation, input=input))[name]
    return payload


def _codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


async def test_rating_rectification_appeal_and_rollup(desk: Desk, nodes: NodeRegistry) -> None:
    await desk.sign_in("resident2", "yuci.supervisor", "xiuwen.receptionist")
    await desk.travel(at(DAY - dt.timedelta(days=1)))
    first, second, third, fourth = [await _completed(desk) for _ in range(4)]
    pending = await desk.submit("resident1", DISABILITY_CARD, await desk.materials("000700400100"))
    await desk.travel(at(DAY))
    receptionist = desk.viewers["yuci.receptionist"].subject

    # given a completed case, when its applicant gives a 差评 on the phone
    rated = await _rate(desk, "resident1", first, "VERY_DISSATISFIED", comment="等了很久")
    # then the rating names who handled it, and a rectification is due in 5 working
    # days that skip the May Day holiday (and count Saturday 9 May, a make-up day)
    assert rated["errors"] == []
    evaluation = rated["evaluation"]
    assert (evaluation["channel"], evaluation["negative"]) == ("MOBILE", True)
    assert (evaluation["staffId"], evaluation["orgCode"]) == (receptionist, YUCI_ORG)
    assert evaluation["matterCode"] == "000700800200"
    rectification = evaluation["rectification"]
    due = reference_working_days(DAY, 5)
    assert rectification["dueOn"] == due.isoformat() == "2026-05-11"
    assert (rectification["status"], rectification["overdue"]) == ("OPEN", False)

    # the same channel again is refused; another channel is a rating of its own
    again = await _rate(desk, "resident1", first, "SATISFIED")
    assert (_codes(again), again["evaluation"]) == (["ALREADY_RATED"], None)
    web = await _on_web(desk, "resident1")
    assert (await desk.run(web, RATED, n=first))["case"]["rateable"] is True
    other = await _rate(desk, web, first, "SATISFIED")
    assert other["evaluation"]["channel"] == "WEB" and other["evaluation"]["rectification"] is None

    # the case shows its ratings to the applicant, the org's staff and the supervisor;
    # the app no longer offers to rate it on either channel
    for who in ("resident1", web, "yuci.receptionist", "yuci.supervisor"):
        case = (await desk.run(who, RATED, n=first))["case"]
        assert [(r["channel"], r["rating"]) for r in case["ratings"]] == [
            ("MOBILE", "VERY_DISSATISFIED"), ("WEB", "SATISFIED"),
        ], who  # fmt: skip
        assert case["rateable"] is False, who
    # staff of another org read the case (their jurisdiction is not the case's) or
    # not; either way, not its ratings
    elsewhere = (await desk.run("xiuwen.receptionist", RATED, n=first))["case"]
    assert elsewhere is None or elsewhere["ratings"] == []
    # by its global ID, for who may read it
    node = (await desk.run("yuci.supervisor", NODE, id=evaluation["id"]))["node"]
    assert (node["caseNumber"], node["rectification"]["id"]) == (first, rectification["id"])
    node = (await desk.run("resident1", NODE, id=rectification["id"]))["node"]
    assert node == {"caseNumber": first}
    assert (await desk.run("resident2", NODE, id=evaluation["id"]))["node"] is None
    # someone else's case, a case without a result, a comment too long: refused
    # (to another resident it is no case at all, as a number nobody holds)
    assert _codes(await _rate(desk, "resident2", second, "SATISFIED")) == ["CASE_NOT_FOUND"]
    number = pending["case"]["number"]
    assert _codes(await _rate(desk, "resident1", number, "SATISFIED")) == ["NO_RESULT_YET"]
    long = await _rate(desk, "resident1", second, "BASIC", comment="慢" * 501)
    assert _codes(long) == ["TEXT_TOO_LONG"]

    # the rectification: completed only after the callback, by staff of the org
    rid = rectification["id"]
    early = await _do(desk, "yuci.reviewer", COMPLETE, "completeRectification", id=rid,
                      measures="窗口增派人员")  # fmt: skip
    assert _codes(early) == ["CALLBACK_REQUIRED"]
    elsewhere = await _do(desk, "xiuwen.receptionist", CALLBACK, "recordCallback", id=rid,
                          note="已回访")  # fmt: skip
    # staff of another org may not read it: to them there is none
    assert _codes(elsewhere) == ["RECTIFICATION_NOT_FOUND"]
    called = await _do(desk, "yuci.reviewer", CALLBACK, "recordCallback", id=rid,
                       note="申请人表示排队时间过长")  # fmt: skip
    assert called["rectification"]["callbackNote"] == "申请人表示排队时间过长"

    # the staff appeal once; a receptionist may not decide, a supervisor dismisses
    eid = evaluation["id"]
    appeal = await _do(desk, "yuci.receptionist", APPEAL, "appealRating", id=eid,
                       reason="当日系统故障")  # fmt: skip
    assert appeal["evaluation"]["appealStatus"] == "PENDING"
    twice = await _do(desk, "yuci.receptionist", APPEAL, "appealRating", id=eid, reason="再次")
    assert _codes(twice) == ["ALREADY_APPEALED"]
    wrong = await _do(desk, "yuci.receptionist", DECIDE, "decideAppeal", id=eid, uphold=False,
                      note="x")  # fmt: skip
    assert _codes(wrong) == ["ROLE_NOT_ALLOWED"]
    bare = await _do(desk, "yuci.supervisor", DECIDE, "decideAppeal", id=eid, uphold=False)
    assert _codes(bare) == ["TEXT_REQUIRED"]
    dismissed = await _do(desk, "yuci.supervisor", DECIDE, "decideAppeal", id=eid,
                          uphold=False, note="系统日志无故障")  # fmt: skip
    assert dismissed["evaluation"]["appealStatus"] == "DISMISSED"
    assert dismissed["evaluation"]["rectification"]["status"] == "OPEN"
    done = await _do(desk, "yuci.reviewer", COMPLETE, "completeRectification", id=rid,
                     measures="窗口增派人员")  # fmt: skip
    assert done["rectification"]["status"] == "COMPLETED"

    # a second 差评 is left open; a fourth is appealed and the appeal upheld
    late = await _rate(desk, "resident1", second, "DISSATISFIED")
    await _rate(desk, "resident1", third, "BASIC")
    unfair = await _rate(desk, "resident1", fourth, "VERY_DISSATISFIED")
    fid = unfair["evaluation"]["id"]
    await _do(desk, "yuci.director", APPEAL, "appealRating", id=fid, reason="评价对象错误")
    upheld = await _do(desk, "yuci.supervisor", DECIDE, "decideAppeal", id=fid, uphold=True)
    assert upheld["evaluation"]["appealStatus"] == "UPHELD"
    assert upheld["evaluation"]["rectification"]["status"] == "VOIDED"

    # when the deadline has passed, the worker's pass flags the open one as overdue,
    # once: not the one completed in time, nor the voided one
    await desk.travel(at(due + dt.timedelta(days=1)))
    mine = {first, second, fourth}

    async def found_overdue() -> list[dict[str, Any]]:
        listed = (await desk.run("yuci.supervisor", OVERDUE))["rectifications"]
        return [r for r in listed if r["caseNumber"] in mine]

    assert await found_overdue() == []  # not before the pass
    county = nodes[Level.COUNTY].sessions
    for _ in range(2):  # two passes of the worker (or one, and one after a restart)
        await flag_overdue(county, level="COUNTY", now=at(due + dt.timedelta(days=1), 0))
    overdue = await found_overdue()
    assert [(r["caseNumber"], r["overdue"]) for r in overdue] == [(second, True)]
    assert overdue[0]["id"] == late["evaluation"]["rectification"]["id"]
    trail = (await desk.run("yuci.supervisor", TRAIL, n=second))["auditTrail"]["events"]
    assert [e["action"] for e in trail].count("RECTIFICATION_OVERDUE") == 1
    # the case's timeline keeps its steps only
    timeline = (await desk.run("resident1", CASE_TIMELINE, n=second))["case"]["timeline"]
    assert [e["action"] for e in timeline] == ["SUBMIT", "COMPLETE"]

    # the roll-up: VERY_DISSATISFIED, SATISFIED, DISSATISFIED, BASIC (the upheld one
    # is left out) — 2 差评 of 4
    expected = {
        "total": 4, "verySatisfied": 0, "satisfied": 1, "basic": 1, "dissatisfied": 1,
        "veryDissatisfied": 1, "negative": 2, "negativeRate": 0.5,
    }  # fmt: skip
    for by, key in (("ORG", YUCI_ORG), ("STAFF", receptionist), ("MATTER", "000700800200")):
        rows = (await desk.run("yuci.supervisor", ROLLUP, by=by, **{"from": RATED_FROM,
                                                                    "to": RATED_TO}))  # fmt: skip
        assert [{k: v for k, v in r.items() if k != "key"} for r in rows["ratingRollup"]] == [
            expected
        ]
        assert rows["ratingRollup"][0]["key"] == key
    audited = await desk.run("yuci.auditor", ROLLUP, by="ORG", **{"from": RATED_FROM,
                                                               "to": RATED_TO})  # fmt: skip
    assert audited["ratingRollup"][0]["total"] == 4
    # figures are for supervisors and auditors, not the counter
    assert (await desk.run("yuci.receptionist", ROLLUP, by="ORG"))["ratingRollup"] == []


async def test_complaints_filed_handled_and_rated(desk: Desk, nodes: NodeRegistry) -> None:
    await desk.sign_in("resident2", "yuci.supervisor", "yuci.auditor", "xiuwen.receptionist")
    await desk.travel(at(DAY + dt.timedelta(days=6)))  # Wednesday 6 May
    number = await _completed(desk)
    staff = desk.viewers["yuci.receptionist"].subject

    # nothing named: refused; another's case: not found for them
    assert _codes(await _do(desk, "resident1", FILE, "fileComplaint", content="差")) == [
        "COMPLAINT_TARGET_REQUIRED"
    ]
    theirs = await _do(desk, "resident2", FILE, "fileComplaint", caseNumber=number, content="差")
    assert _codes(theirs) == ["CASE_NOT_FOUND"]
    # a window or staff member that is not there, or not of the case's org: refused
    async with nodes[Level.TOWN].sessions() as session:
        town_window = await session.scalar(select(Window.id).order_by(Window.id))
    assert town_window is not None
    for given, code in (
        ({"staffId": "no-such-staff"}, "STAFF_NOT_FOUND"),
        ({"windowId": "bm9wZQ"}, "INVALID_ID"),
        ({"windowId": encode_id("Window", "140702000000", "140702000000W99")}, "WINDOW_NOT_FOUND"),
        (
            {"caseNumber": number, "windowId": encode_id("Window", town_window[:12], town_window)},
            "TARGETS_DISAGREE",
        ),
        (
            {"caseNumber": number, "staffId": desk.viewers["xiuwen.receptionist"].subject},
            "TARGETS_DISAGREE",
        ),
    ):
        refused = await _do(desk, "resident1", FILE, "fileComplaint", content="差", **given)
        assert (_codes(refused), refused["complaint"]) == ([code], None), given
    # against the case and the staff member who handled it
    filed = await _do(desk, "resident1", FILE, "fileComplaint", caseNumber=number,
                      staffId=staff, content="工作人员态度生硬")  # fmt: skip
    complaint = filed["complaint"]
    assert filed["errors"] == [] and complaint["status"] == "OPEN"
    assert complaint["dueOn"] == reference_working_days(DAY + dt.timedelta(days=6), 5).isoformat()
    # against the staff member alone: kept with their org
    alone = await _do(desk, "resident1", FILE, "fileComplaint", staffId=staff, content="推诿")
    assert alone["complaint"]["orgCode"] == YUCI_ORG

    cid = complaint["id"]
    early = await _do(desk, "resident1", SATISFACTION, "rateComplaintHandling", id=cid,
                      satisfaction="SATISFIED")  # fmt: skip
    assert _codes(early) == ["COMPLAINT_NOT_HANDLED"]
    counter = await _do(desk, "yuci.receptionist", HANDLE, "handleComplaint", id=cid,
                        handling="已处理")  # fmt: skip
    # a receptionist may not read complaints: to them there is none
    assert _codes(counter) == ["COMPLAINT_NOT_FOUND"]
    handled = await _do(desk, "yuci.supervisor", HANDLE, "handleComplaint", id=cid,
                        handling="约谈当事人并通报批评")  # fmt: skip
    assert handled["complaint"]["status"] == "HANDLED"
    other = await _do(desk, "resident2", SATISFACTION, "rateComplaintHandling", id=cid,
                      satisfaction="DISSATISFIED")  # fmt: skip
    assert _codes(other) == ["COMPLAINT_NOT_FOUND"]
    rated = await _do(desk, "resident1", SATISFACTION, "rateComplaintHandling", id=cid,
                      satisfaction="SATISFIED")  # fmt: skip
    assert rated["complaint"]["satisfaction"] == "SATISFIED"
    again = await _do(desk, "resident1", SATISFACTION, "rateComplaintHandling", id=cid,
                      satisfaction="DISSATISFIED")  # fmt: skip
    assert _codes(again) == ["SATISFACTION_GIVEN"]

    # supervisors and auditors of the jurisdiction see it; another resident does not
    for who in ("yuci.supervisor", "yuci.auditor", "resident1"):
        listed = (await desk.run(who, COMPLAINTS, number=number))["complaints"]
        assert [c["id"] for c in listed] == [cid], who
    assert (await desk.run("resident2", COMPLAINTS, number=number))["complaints"] == []
    assert (await desk.run("xiuwen.auditor", COMPLAINTS, number=number))["complaints"] == []
