"""Windows, the queue and appointments over HTTP as the real roles, at the 榆次区
centre in the autumn of 2025 (the National Day holiday runs 1–8 October; Sunday 28
September and Saturday 11 October are make-up working days):

* a queue at window A02 whose posts the admin gives to two department receptionists
  (A: yuci.scj.receptionist, B: yuci.cl.receptionist): tickets from the app, a kiosk and
  the counter; nobody on post → unstaffed; B calls while A is away, a no-show recalled
  once, a ticket finished and linked to its case; A back → B may not call; a transfer;
* opening hours on a working day, at lunch time, on a plain Saturday, on a holiday
  Saturday and on a make-up working Saturday; a 24-hour kiosk;
* appointments: capacity (SLOT_FULL), one booking per person, cancel, past slots, and
  check-in giving a ticket called before the walk-ins;
* windowQueue over a WebSocket: the hall display sees each change, numbers only."""

from __future__ import annotations

import datetime as dt
from typing import Any

from levels.common.publicids import new_public_id
from resolvers.globalid import encode_id
from tests.auth.conftest import signed_in
from tests.scenarios.desk import Desk, at
from tests.schema.test_subscriptions import graphql_socket

YUCI = "140702000000"
YUCI_ORG = "12140702MB00000006"
A01 = encode_id("Window", YUCI, f"{YUCI}W01")
A02 = encode_id("Window", YUCI, f"{YUCI}W02")
E01 = encode_id("Window", YUCI, f"{YUCI}W09")
A_POST, B_POST = "yuci.scj.receptionist", "yuci.cl.receptionist"
WORKDAY = dt.date(2025, 9, 30)  # Tuesday
HOLIDAY_SATURDAY = dt.date(2025, 10, 4)  # National Day
MAKEUP_SATURDAY = dt.date(2025, 10, 11)  # a make-up working day (调休上班)
PLAIN_SATURDAY = dt.date(2025, 10, 18)
# a case received at the 榆次区 centre in the demo, and one of no org
YUCI_CASE = "140702000000-20261026-00001"
CASE_TIMELINE = "query($number: String!) { case(number: $number) { timeline { action } } }"
NO_SUCH_CASE = "140702000000-20261120-99999"

TICKET = """
  id number status channel windowKind basicCode priority recalls caseNumber ahead
  window { number } calledWindow { number } transferredFrom { number }
"""
ISSUE = f"""
mutation($input: IssueTicketInput!) {{
  issueTicket(input: $input) {{ ticket {{ {TICKET} }} errors {{ code field message }} }}
}}"""
CALL = f"""
mutation($input: CallNextTicketInput!) {{
  callNextTicket(input: $input) {{ ticket {{ {TICKET} }} errors {{ code field }} }}
}}"""
WINDOWS = """
query($org: String!) {
  windows(orgCode: $org) {
    id number kind open
    posts { onDuty staffed a { staffName onPost } b { staffName onPost } }
    hours { dayKind opens closes extended }
    queue { open staffed nowServing waiting waitingCount estimatedWaitMinutes }
    kioskFunctions
  }
}"""
MY_TICKETS = f"query {{ myTickets {{ {TICKET} }} }}"
SLOTS = """
query($org: String!, $date: Date!, $window: ID) {
  appointmentSlots(orgCode: $org, date: $date, windowId: $window) {
    id date starts ends capacity booked remaining bookable window { number }
  }
}"""
APPOINTMENT = "id status date starts ends basicCode window { number }"
FOLLOW = """
subscription($window: ID!) {
  windowQueue(windowId: $window) { window { number } nowServing waiting waitingCount staffed }
}"""


def _mutation(name: str, input_type: str, body: str) -> str:
    return f"""mutation($input: {input_type}!) {{
      {name}(input: $input) {{ {body} errors {{ code field message }} }}
    }}"""


WINDOW_BODY = "window { number posts { onDuty staffed } }"
SET_POSTS = _mutation("setWindowPosts", "SetWindowPostsInput", WINDOW_BODY)
OPEN_POST = _mutation("openPost", "WindowPostInput", WINDOW_BODY)
LEAVE_POST = _mutation("leavePost", "WindowPostInput", WINDOW_BODY)
SET_HOURS = _mutation("setWindowHours", "SetWindowHoursInput", "window { hours { opens } }")
TICKET_BODY = f"ticket {{ {TICKET} }}"
NO_SHOW = _mutation("markNoShow", "TicketActionInput", TICKET_BODY)
RECALL = _mutation("recallTicket", "TicketActionInput", TICKET_BODY)
SERVE = _mutation("serveTicket", "TicketActionInput", TICKET_BODY)
FINISH = _mutation("finishTicket", "FinishTicketInput", TICKET_BODY)
TRANSFER = _mutation("transferTicket", "TransferTicketInput", TICKET_BODY)
CANCEL = _mutation("cancelTicket", "TicketActionInput", TICKET_BODY)
OPEN_SLOTS = _mutation(
    "openAppointmentSlots", "OpenAppointmentSlotsInput", "slots { id starts capacity remaining }"
)
BOOK = _mutation("bookAppointment", "BookAppointmentInput", f"appointment {{ {APPOINTMENT} }}")
CANCEL_BOOKING = _mutation(
    "cancelAppointment", "AppointmentActionInput", f"appointment {{ {APPOINTMENT} }}"
)
CHECK_IN = _mutation(
    "checkInAppointment",
    "AppointmentActionInput",
    f"appointment {{ {APPOINTMENT} }} ticket {{ {TICKET} }}",
)


async def _do(desk: Desk, who: str, mutation: str, **input: Any) -> dict[str, Any]:
    data = await desk.run(who, mutation, input=input)
    payload: dict[str, Any] = next(iter(data.values()))
    return payload


def _codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


async def _windows(desk: Desk) -> dict[str, dict[str, Any]]:
    """The 榆次区 windows by number, as anyone (not signed in) sees them."""
    body = await desk.hub.gql(WINDOWS, {"org": YUCI})
    assert "errors" not in body, body
    return {w["number"]: w for w in body["data"]["windows"]}


async def _on_kiosk(desk: Desk, name: str) -> str:
    who = f"{name}@kiosk"
    token = (await signed_in(desk.hub.gql, name, "KIOSK"))["accessToken"]
    desk.tokens[who] = token
    desk.viewers[who] = await desk.hub.app.state.identity.authenticate(token)
    return who


async def _a02_posts(desk: Desk) -> None:
    await desk.sign_in("yuci.admin", A_POST, B_POST, "resident2", "resident3")
    done = await _do(desk, "yuci.admin", SET_POSTS, windowId=A02, aStaff=A_POST, bStaff=B_POST)
    assert done["errors"] == [], done


async def test_a_queue_at_a_window_with_ab_posts(desk: Desk) -> None:
    await _a02_posts(desk)
    await desk.travel(at(WORKDAY, 9))
    kiosk = await _on_kiosk(desk, "resident2")

    # given tickets for window A02 from the app, a kiosk and the counter (a walk-in)
    mine = await _do(desk, "resident1", ISSUE, orgCode=YUCI, windowId=A02)
    theirs = await _do(desk, kiosk, ISSUE, orgCode=YUCI_ORG, windowId=A02)
    walk_in = await _do(desk, A_POST, ISSUE, orgCode=YUCI, windowId=A02)
    tickets = [p["ticket"] for p in (mine, theirs, walk_in)]
    # then they are numbered in turn for the day, each with its channel, and wait in line
    assert [(t["number"], t["channel"], t["ahead"]) for t in tickets] == [
        ("A001", "MOBILE", 0),
        ("A002", "KIOSK", 1),
        ("A003", "COUNTER", 2),
    ]
    # and one person holds one ticket per queue
    again = await _do(desk, "resident1", ISSUE, orgCode=YUCI, windowId=A02)
    assert _codes(again) == ["ALREADY_IN_QUEUE"] and again["ticket"] is None

    # when nobody is on either post, the window is unstaffed and nobody may call
    a02 = (await _windows(desk))["A02"]
    assert a02["posts"]["staffed"] is False and a02["queue"]["staffed"] is False
    assert a02["queue"]["waiting"] == ["A001", "A002", "A003"]
    assert _codes(await _do(desk, B_POST, CALL, windowId=A02)) == ["WINDOW_UNSTAFFED"]

    # when B signs in on the post while A is away, B calls
    assert (await _do(desk, B_POST, OPEN_POST, windowId=A02))["window"]["posts"] == {
        "onDuty": "B",
        "staffed": True,
    }
    called = (await _do(desk, B_POST, CALL, windowId=A02))["ticket"]
    assert (called["number"], called["status"], called["calledWindow"]) == (
        "A001",
        "CALLED",
        {"number": "A02"},
    )
    # and the window calls nobody else until this one is dealt with
    assert _codes(await _do(desk, B_POST, CALL, windowId=A02)) == ["WINDOW_BUSY"]
    # a no-show is recalled once, when the person comes back
    assert (await _do(desk, B_POST, NO_SHOW, ticketId=called["id"]))["ticket"][
        "status"
    ] == "NO_SHOW"
    recalled = (await _do(desk, B_POST, RECALL, ticketId=called["id"]))["ticket"]
    assert (recalled["status"], recalled["recalls"]) == ("CALLED", 1)
    assert (await _do(desk, B_POST, SERVE, ticketId=called["id"]))["ticket"]["status"] == "SERVING"
    # a case of another number is refused, and the ticket stays as it was
    wrong = await _do(desk, B_POST, FINISH, ticketId=called["id"], caseNumber=NO_SUCH_CASE)
    assert _codes(wrong) == ["CASE_NOT_FOUND"]
    finished = await _do(desk, B_POST, FINISH, ticketId=called["id"], caseNumber=YUCI_CASE)
    assert finished["errors"] == []
    assert (finished["ticket"]["status"], finished["ticket"]["caseNumber"]) == ("DONE", YUCI_CASE)
    # the case still reads whole: the ticket is in its audit trail, not among its steps
    timeline = await desk.run("yuci.supervisor", CASE_TIMELINE, number=YUCI_CASE)
    steps = [e["action"] for e in timeline["case"]["timeline"]]
    assert steps and "FINISH_TICKET" not in steps

    second = (await _do(desk, B_POST, CALL, windowId=A02))["ticket"]
    assert second["number"] == "A002"
    await _do(desk, B_POST, NO_SHOW, ticketId=second["id"])
    await _do(desk, B_POST, RECALL, ticketId=second["id"])
    await _do(desk, B_POST, NO_SHOW, ticketId=second["id"])
    assert _codes(await _do(desk, B_POST, RECALL, ticketId=second["id"])) == ["RECALL_LIMIT"]

    # when A comes back, A holds the window: B may no longer call
    assert (await _do(desk, A_POST, OPEN_POST, windowId=A02))["window"]["posts"]["onDuty"] == "A"
    assert _codes(await _do(desk, B_POST, CALL, windowId=A02)) == ["A_POST_ON_DUTY"]
    third = (await _do(desk, A_POST, CALL, windowId=A02))["ticket"]
    assert third["number"] == "A003"
    # A sends the walk-in on to A01: it waits there, keeping its place by issue time
    moved = (await _do(desk, A_POST, TRANSFER, ticketId=third["id"], toWindowId=A01))["ticket"]
    assert (moved["status"], moved["window"], moved["transferredFrom"]) == (
        "WAITING",
        {"number": "A01"},
        {"number": "A02"},
    )
    hall = await _windows(desk)
    assert hall["A01"]["queue"]["waiting"][0] == "A003"
    assert hall["A02"]["queue"]["waiting"] == [] and hall["A02"]["queue"]["nowServing"] is None

    # A leaves: B takes over; B leaves too: unstaffed again
    await _do(desk, A_POST, LEAVE_POST, windowId=A02)
    assert (await _windows(desk))["A02"]["posts"]["onDuty"] == "B"
    await _do(desk, B_POST, LEAVE_POST, windowId=A02)
    a02 = (await _windows(desk))["A02"]
    assert a02["posts"] == {
        "onDuty": None,
        "staffed": False,
        "a": {"staffName": a02["posts"]["a"]["staffName"], "onPost": False},
        "b": {"staffName": a02["posts"]["b"]["staffName"], "onPost": False},
    }
    # the person sees their ticket, linked to the case; nobody else does
    numbers = [t["number"] for t in (await desk.run("resident1", MY_TICKETS))["myTickets"]]
    assert "A001" in numbers
    theirs_now = (await desk.run("resident3", MY_TICKETS))["myTickets"]
    assert all(t["id"] != called["id"] for t in theirs_now)


async def test_who_may_do_what_at_a_window(desk: Desk) -> None:
    await _a02_posts(desk)
    await desk.sign_in("yuci.reviewer", "taigu.admin", "yuci.auditor")
    await desk.travel(at(WORKDAY - dt.timedelta(days=1), 10))  # Monday 29 September
    # only the org's admin or director names the posts; another county's admin is refused
    assert _codes(await _do(desk, "yuci.reviewer", SET_POSTS, windowId=A02, aStaff=A_POST)) == [
        "ROLE_NOT_ALLOWED"
    ]
    assert _codes(await _do(desk, "taigu.admin", SET_POSTS, windowId=A02, aStaff=A_POST)) == [
        "NOT_AT_THIS_ORG"
    ]
    # the posts go to staff of the org, two different people
    assert _codes(
        await _do(desk, "yuci.admin", SET_POSTS, windowId=A02, aStaff="taigu.reviewer")
    ) == ["STAFF_NOT_FOUND"]
    assert _codes(
        await _do(desk, "yuci.admin", SET_POSTS, windowId=A02, aStaff=A_POST, bStaff=A_POST)
    ) == ["SAME_STAFF_ON_BOTH_POSTS"]
    # only the two named staff sign in on the posts; a resident calls nobody
    assert _codes(await _do(desk, "yuci.reviewer", OPEN_POST, windowId=A02)) == [
        "NOT_NAMED_ON_POST"
    ]
    assert _codes(await _do(desk, "resident1", CALL, windowId=A02)) == ["ROLE_NOT_ALLOWED"]
    # an auditor takes no ticket; nobody signed in takes none either
    assert _codes(await _do(desk, "yuci.auditor", ISSUE, orgCode=YUCI, windowId=A02)) == [
        "ROLE_NOT_ALLOWED"
    ]
    anonymous = await desk.hub.gql(ISSUE, {"input": {"orgCode": YUCI, "windowId": A02}})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # a holder cancels their own waiting ticket, nobody else's
    ticket = (await _do(desk, "resident3", ISSUE, orgCode=YUCI, windowId=A02))["ticket"]
    # to anyone else it does not exist: the answer of an id nobody holds
    unheld = encode_id("Ticket", YUCI, new_public_id(YUCI))
    for tid in (ticket["id"], unheld):
        assert _codes(await _do(desk, "resident2", CANCEL, ticketId=tid)) == ["TICKET_NOT_FOUND"]
    assert (await _do(desk, "resident3", CANCEL, ticketId=ticket["id"]))["ticket"][
        "status"
    ] == "CANCELLED"
    # bad input is a typed error that changes nothing
    before = (await _windows(desk))["A02"]
    for input, code in (
        ({"orgCode": "12345"}, "INVALID_ORG_CODE"),
        ({"orgCode": YUCI}, "TARGET_REQUIRED"),
        ({"orgCode": YUCI, "basicCode": "nope"}, "INVALID_BASIC_CODE"),
        ({"orgCode": YUCI, "basicCode": "999999999999"}, "MATTER_NOT_SERVED"),
        ({"orgCode": YUCI, "windowKind": "SELF_SERVICE"}, "WINDOW_TAKES_NO_TICKETS"),
        ({"orgCode": YUCI, "windowId": "bm9wZQ"}, "INVALID_ID"),
    ):
        assert _codes(await _do(desk, "resident2", ISSUE, **input)) == [code], input
    bad_hours = [{"dayKind": "WORKDAY", "opens": "25:00", "closes": "26:00"}]
    assert _codes(await _do(desk, "yuci.admin", SET_HOURS, windowId=A02, hours=bad_hours)) == [
        "INVALID_HOURS"
    ]
    overlapping = [
        {"dayKind": "WORKDAY", "opens": "08:00", "closes": "12:00"},
        {"dayKind": "WORKDAY", "opens": "11:00", "closes": "13:00"},
    ]
    assert _codes(await _do(desk, "yuci.admin", SET_HOURS, windowId=A02, hours=overlapping)) == [
        "INVALID_HOURS"
    ]
    assert (await _windows(desk))["A02"] == before
    # English on request
    english = await desk.hub.gql(
        ISSUE,
        {"input": {"orgCode": YUCI}},
        **{"Accept-Language": "en", "Authorization": f"Bearer {desk.tokens['resident2']}"},
    )
    assert (
        english["data"]["issueTicket"]["errors"][0]["message"] == "Name a matter or a window kind"
    )


async def test_opening_hours_follow_the_working_day_calendar(desk: Desk) -> None:
    await desk.sign_in("yuci.admin")
    # a working day at lunch time: A01 serves through lunch (错时延时), A02 does not
    await desk.travel(at(WORKDAY, 12) + dt.timedelta(minutes=30))
    hall = await _windows(desk)
    assert (hall["A01"]["open"], hall["A02"]["open"], hall["E01"]["open"]) == (True, False, True)
    assert {"dayKind": "WORKDAY", "opens": "12:00", "closes": "14:30", "extended": True} in hall[
        "A01"
    ]["hours"]
    lunch = await _do(desk, "resident1", ISSUE, orgCode=YUCI, windowId=A02)
    assert _codes(lunch) == ["OUTSIDE_OPENING_HOURS"] and lunch["ticket"] is None
    # a plain Saturday: A01's weekend service is open, A02 is closed
    await desk.travel(at(PLAIN_SATURDAY, 10))
    hall = await _windows(desk)
    assert (hall["A01"]["open"], hall["A02"]["open"]) == (True, False)
    saturday = await _do(desk, "resident1", ISSUE, orgCode=YUCI, windowId=A01)
    assert saturday["errors"] == [] and saturday["ticket"]["number"] == "A001"
    assert _codes(await _do(desk, "resident2", ISSUE, orgCode=YUCI, windowId=A02)) == [
        "OUTSIDE_OPENING_HOURS"
    ]
    # a Saturday of the National Day holiday: closed, except the 24-hour self-service area
    await desk.travel(at(HOLIDAY_SATURDAY, 10))
    hall = await _windows(desk)
    assert (hall["A01"]["open"], hall["A02"]["open"], hall["E01"]["open"]) == (False, False, True)
    assert "TAKE_TICKET" in hall["E01"]["kioskFunctions"] and hall["E01"]["queue"] is None
    assert _codes(await _do(desk, "resident1", ISSUE, orgCode=YUCI, windowId=A01)) == [
        "OUTSIDE_OPENING_HOURS"
    ]
    # a Saturday that is a make-up working day (调休上班): weekday hours
    await desk.travel(at(MAKEUP_SATURDAY, 10))
    hall = await _windows(desk)
    assert (hall["A01"]["open"], hall["A02"]["open"]) == (True, True)
    # a window given holiday service is open on the holiday
    holiday = [{"dayKind": "HOLIDAY", "opens": "09:00", "closes": "12:00", "extended": True}]
    done = await _do(desk, "yuci.admin", SET_HOURS, windowId=A02, hours=holiday)
    assert done["errors"] == []
    await desk.travel(at(HOLIDAY_SATURDAY, 10))
    assert (await _windows(desk))["A02"]["open"] is True
    await _do(desk, "yuci.admin", SET_HOURS, windowId=A02, hours=[])
    assert (await _windows(desk))["A02"]["open"] is False


async def test_appointments_have_a_capacity(desk: Desk) -> None:
    await _a02_posts(desk)
    monday = dt.date(2025, 10, 20)
    await desk.travel(at(dt.date(2025, 10, 15), 10))
    # slots within the window's hours; none on a holiday
    on_holiday = [{"starts": "09:00", "ends": "09:30", "capacity": 2}]
    assert _codes(
        await _do(desk, "yuci.admin", OPEN_SLOTS, windowId=A02, date="2026-01-01", slots=on_holiday)
    ) == ["INVALID_SLOT"]
    opened = await _do(
        desk,
        "yuci.admin",
        OPEN_SLOTS,
        windowId=A02,
        date=monday.isoformat(),
        slots=[{"starts": "09:00", "ends": "09:30", "capacity": 2}],
    )
    assert opened["errors"] == []
    slot = opened["slots"][0]["id"]
    # two people book the two seats; the third finds it full; nobody books twice
    first = await _do(desk, "resident1", BOOK, slotId=slot, basicCode="000700400100")
    assert first["appointment"]["status"] == "BOOKED"
    second = await _do(desk, "resident2", BOOK, slotId=slot)
    assert second["errors"] == []
    full = await _do(desk, "resident3", BOOK, slotId=slot)
    assert _codes(full) == ["SLOT_FULL"] and full["appointment"] is None
    assert _codes(await _do(desk, "resident1", BOOK, slotId=slot)) == ["ALREADY_BOOKED"]
    listed = await desk.run("resident3", SLOTS, org=YUCI, date=monday.isoformat(), window=A02)
    assert [(s["remaining"], s["bookable"]) for s in listed["appointmentSlots"]] == [(0, False)]
    # a cancellation frees the seat
    cancel = await _do(desk, "resident2", CANCEL_BOOKING, appointmentId=second["appointment"]["id"])
    assert cancel["appointment"]["status"] == "CANCELLED"
    assert (await _do(desk, "resident3", BOOK, slotId=slot))["errors"] == []
    # check-in opens 30 minutes before the slot: then a ticket called before the walk-ins
    mine = first["appointment"]["id"]
    assert _codes(await _do(desk, "resident1", CHECK_IN, appointmentId=mine)) == [
        "NOT_CHECK_IN_TIME"
    ]
    await desk.travel(at(monday, 8) + dt.timedelta(minutes=35))
    walk_in = (await _do(desk, "resident2", ISSUE, orgCode=YUCI, windowId=A02))["ticket"]
    await desk.travel(at(monday, 8) + dt.timedelta(minutes=40))
    checked = await _do(desk, "resident1", CHECK_IN, appointmentId=mine)
    assert checked["appointment"]["status"] == "CHECKED_IN"
    assert (checked["ticket"]["number"], checked["ticket"]["priority"]) == ("Y001", True)
    await _do(desk, A_POST, OPEN_POST, windowId=A02)
    called = (await _do(desk, A_POST, CALL, windowId=A02))["ticket"]
    assert called["number"] == "Y001"
    await _do(desk, A_POST, FINISH, ticketId=called["id"])
    assert (await _do(desk, A_POST, CALL, windowId=A02))["ticket"]["number"] == walk_in["number"]
    await _do(desk, A_POST, LEAVE_POST, windowId=A02)
    # a slot that has begun is not booked any more
    await desk.travel(at(monday, 9) + dt.timedelta(minutes=5))
    assert _codes(await _do(desk, "resident2", BOOK, slotId=slot)) == ["SLOT_PAST"]


async def test_the_hall_display_follows_a_window_queue(desk: Desk) -> None:
    await _a02_posts(desk)
    day = dt.date(2025, 11, 4)  # a Tuesday
    await desk.travel(at(day, 9))
    async with graphql_socket(desk.hub.app) as socket:
        ack = await socket.init({"Authorization": f"Bearer {desk.tokens['yuci.admin']}"})
        assert ack["type"] == "connection_ack"
        op = await socket.subscribe(FOLLOW, window=A02)
        first = await socket.next_payload(op)
        assert first["data"]["windowQueue"] == {
            "window": {"number": "A02"},
            "nowServing": None,
            "waiting": [],
            "waitingCount": 0,
            "staffed": False,
        }
        # a ticket taken in the app shows up on the display, as a number only
        await _do(desk, "resident1", ISSUE, orgCode=YUCI, windowId=A02)
        shown = (await socket.next_payload(op))["data"]["windowQueue"]
        assert (shown["waiting"], shown["waitingCount"]) == (["A001"], 1)
        # and so does the call
        await _do(desk, A_POST, OPEN_POST, windowId=A02)
        assert (await socket.next_payload(op))["data"]["windowQueue"]["staffed"] is True
        await _do(desk, A_POST, CALL, windowId=A02)
        called = (await socket.next_payload(op))["data"]["windowQueue"]
        assert (called["nowServing"], called["waiting"]) == ("A001", [])
        await socket.complete(op)
    await _do(desk, A_POST, LEAVE_POST, windowId=A02)
