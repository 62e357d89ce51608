"""000 "申请材料存在可以当场更正的错误的，应当允许申请人当场更正，出具决定受理通知书，
进入受理阶段，受理时间从收件之日算起": at the counter a material is corrected on the
spot (``correctMaterials``) — no supplement notice, no suspension — and the case is
accepted with its clock counting from the day it was received."""

from __future__ import annotations

import datetime as dt

from tests.scenarios.desk import DISABILITY_CARD, Desk, actions, add_working_days, at

RECEIVED = dt.date(2026, 11, 16)  # a Monday


async def test_on_spot_correction_accepts_from_receipt_without_a_notice_000(desk: Desk) -> None:
    """当场更正: a material left out is handed in on paper at the counter that afternoon;
    the case goes SUBMITTED → ACCEPTED with acceptedOn the day of receipt, its due date
    the promised limit from there, and never waits for a 补正."""
    await desk.travel(at(RECEIVED, 9))
    materials = await desk.materials("000700400100")
    left_out, *given = materials
    submitted = await desk.submit("resident1", DISABILITY_CARD, given)
    assert submitted["errors"] == [], submitted
    number = submitted["case"]["number"]
    states = {m["name"]: m["state"] for m in submitted["case"]["materials"]}
    assert states[left_out] == "MISSING"

    # the next morning the resident is back at the counter with the form
    await desk.travel(at(RECEIVED + dt.timedelta(days=1), 10))
    corrected = await desk.act(
        "yuci.receptionist",
        "correctMaterials",
        number=number,
        materials=[{"name": left_out, "source": "PAPER"}],
        note="申请表当场补签",
    )
    assert corrected["errors"] == [], corrected
    case = corrected["case"]
    assert case["status"] == "ACCEPTED"
    assert case["clock"]["acceptedOn"] == RECEIVED.isoformat()  # from receipt
    assert case["clock"]["dueOn"] == add_working_days(RECEIVED, 10).isoformat()
    assert case["clock"]["deemedAccepted"] is False
    assert case["supplementDeadline"] is None  # no notice was issued
    assert {m["state"] for m in case["materials"]} == {"PROVIDED"}
    assert actions(case) == ["SUBMIT", "CORRECT_ON_SPOT"]
    assert case["timeline"][-1]["before"] == "SUBMITTED"
    assert case["timeline"][-1]["after"] == "ACCEPTED"


async def test_what_cannot_be_corrected_on_the_spot_is_refused_000(desk: Desk) -> None:
    """Correcting only part of what is missing is refused (NOT_CORRECTED_ON_SPOT) and
    changes nothing: the rest goes on a supplement notice. Only the receptionist
    corrects, and only a case not yet taken up."""
    await desk.travel(at(RECEIVED, 9))
    materials = await desk.materials("000700400100")
    # the application form and the photo are missing (the 居民身份证 and 户口簿 are
    # shared: the verified identity and the library fill them)
    first, *given, second = materials
    number = (await desk.submit("resident1", DISABILITY_CARD, given))["case"]["number"]

    partly = await desk.act(
        "yuci.receptionist",
        "correctMaterials",
        number=number,
        materials=[{"name": first, "source": "PAPER"}],
    )
    assert [e["code"] for e in partly["errors"]] == ["NOT_CORRECTED_ON_SPOT"]
    assert partly["case"] is None
    by_reviewer = await desk.act(
        "yuci.reviewer",
        "correctMaterials",
        number=number,
        materials=[{"name": first, "source": "PAPER"}, {"name": second, "source": "PAPER"}],
    )
    assert [e["code"] for e in by_reviewer["errors"]] == ["ROLE_NOT_ALLOWED"]

    notice = await desk.act(
        "yuci.receptionist", "issueSupplementNotice", number=number, materials=[]
    )
    assert notice["case"]["status"] == "AWAITING_SUPPLEMENT"
    assert notice["case"]["version"] == 2  # the refused corrections changed nothing
    late = await desk.act(
        "yuci.receptionist",
        "correctMaterials",
        number=number,
        materials=[{"name": first, "source": "PAPER"}, {"name": second, "source": "PAPER"}],
    )
    assert [e["code"] for e in late["errors"]] == ["INVALID_TRANSITION"]
