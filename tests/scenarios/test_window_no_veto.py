"""004 窗口无否决权 ("窗口工作人员…不能简单直接地说'不行'，其行使否决权必须得到批准"): a
rejection at the counter is a proposal; it takes effect only when a second person —
the department head — approves it, never the proposer; declined, the case is taken up
as usual."""

from __future__ import annotations

import datetime as dt

from tests.scenarios.desk import DISABILITY_CARD, Desk, actions, at

DAY = dt.date(2026, 11, 16)  # a Monday


async def _submitted(desk: Desk) -> str:
    await desk.travel(at(DAY, 9))
    materials = await desk.materials("000700400100")
    payload = await desk.submit("resident1", DISABILITY_CARD, materials)
    assert payload["errors"] == [], payload
    number: str = payload["case"]["number"]
    return number


async def test_window_rejection_needs_a_second_persons_approval_004(desk: Desk) -> None:
    """窗口无否决权: rejectCase only proposes (still SUBMITTED, rejectionPending); the
    receptionist cannot approve it, nor propose twice; the department head's
    approveRejection makes it REJECTED with the reason and authority proposed."""
    number = await _submitted(desk)
    proposed = await desk.act(
        "yuci.receptionist",
        "rejectCase",
        number=number,
        reason="NOT_OUR_JURISDICTION",
        authority="太谷区残疾人联合会",
    )
    assert proposed["errors"] == [], proposed
    case = proposed["case"]
    assert (case["status"], case["rejectionPending"]) == ("SUBMITTED", True)
    assert case["rejectionReason"] == "NOT_OUR_JURISDICTION"
    assert case["clock"]["state"] == "STOPPED"

    # the window cannot say no on its own: not by approving, not by proposing again
    own = await desk.act("yuci.receptionist", "approveRejection", number=number)
    assert [e["code"] for e in own["errors"]] == ["ROLE_NOT_ALLOWED"]
    twice = await desk.act("yuci.receptionist", "rejectCase", number=number, reason="NOT_REQUIRED")
    assert [e["code"] for e in twice["errors"]] == ["REJECTION_PENDING"]
    # the applicant sees a case still waiting, not a refusal
    mine = (
        await desk.run("resident1", "query($n: String!) { case(number: $n) { status } }", n=number)
    )["case"]
    assert mine["status"] == "SUBMITTED"

    approved = await desk.act("yuci.director", "approveRejection", number=number)
    assert approved["errors"] == [], approved
    case = approved["case"]
    assert (case["status"], case["rejectionPending"]) == ("REJECTED", False)
    assert case["rejectionAuthority"] == "太谷区残疾人联合会"
    assert actions(case) == ["SUBMIT", "PROPOSE_REJECTION", "REJECT"]
    roles = [e["role"] for e in case["timeline"][1:]]
    assert "RECEPTIONIST" in roles[0] and "DIRECTOR" in roles[1]


async def test_declined_rejection_leaves_the_case_to_be_taken_up_004(desk: Desk) -> None:
    """Declined by the department head, the proposal is dropped: nothing to approve
    any more, and the receptionist accepts the case, its clock from receipt."""
    number = await _submitted(desk)
    await desk.act("yuci.receptionist", "rejectCase", number=number, reason="NOT_REQUIRED")
    nothing = await desk.act(
        "yuci.director", "declineRejection", number=number, note="属本机关受理"
    )
    assert nothing["errors"] == [], nothing
    case = nothing["case"]
    assert (case["status"], case["rejectionPending"], case["rejectionReason"]) == (
        "SUBMITTED",
        False,
        None,
    )
    gone = await desk.act("yuci.director", "approveRejection", number=number)
    assert [e["code"] for e in gone["errors"]] == ["NO_REJECTION_PROPOSED"]
    accepted = await desk.act("yuci.receptionist", "acceptCase", number=number)
    assert accepted["case"]["status"] == "ACCEPTED"
    assert accepted["case"]["clock"]["acceptedOn"] == DAY.isoformat()
    assert actions(accepted["case"]) == [
        "SUBMIT",
        "PROPOSE_REJECTION",
        "DECLINE_REJECTION",
        "ACCEPT",
    ]
