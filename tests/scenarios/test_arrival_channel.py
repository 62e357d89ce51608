"""How a case arrived follows from who hands it in and where, never from what the client
claims: a resident signed in on the web portal submits on WEB whatever ``channel`` it
sends; staff receive at the COUNTER (or register a posted application, MAIL). The
supervision figures ``online`` and ``onSite`` count by this channel."""

from __future__ import annotations

import datetime as dt
from typing import Any

from gateway.demo.accounts import resident_id_number
from tests.auth.conftest import bearer, signed_in
from tests.scenarios.desk import DISABILITY_CARD, Desk, at

# a day of its own: the cases made here are counted in no other test's figures
DAY = dt.date(2026, 5, 12)

SUBMIT = """
mutation($input: SubmitCaseInput!) {
  submitCase(input: $input) { case { number channel } errors { code field } }
}"""


async def _submit(desk: Desk, token: str, channel: str, **extra: Any) -> dict[str, Any]:
    names = await desk.materials("000700400100")
    materials = [{"name": m, "source": "FILE", "reference": f"f-{i}"} for i, m in enumerate(names)]
    input = {"implementationCode": DISABILITY_CARD, "channel": channel, "materials": materials}
    body = await desk.hub.gql(SUBMIT, {"input": {**input, **extra}}, **bearer(token))
    payload: dict[str, Any] = body["data"]["submitCase"]
    assert payload["errors"] == [], payload
    return payload["case"]


async def test_a_resident_on_the_web_cannot_claim_another_channel(desk: Desk) -> None:
    await desk.travel(at(DAY))
    token = (await signed_in(desk.hub.gql, "resident1", "WEB"))["accessToken"]
    for claimed in ("COUNTER", "KIOSK", "PROXY", "SYSTEM", "MAIL", "MOBILE", "WEB"):
        case = await _submit(desk, token, claimed)
        assert case["channel"] == "WEB", claimed
    # in the app, the same resident's cases arrive on MOBILE
    app = (await signed_in(desk.hub.gql, "resident1", "MOBILE"))["accessToken"]
    assert (await _submit(desk, app, "KIOSK"))["channel"] == "MOBILE"


async def test_staff_receive_at_the_counter_or_by_mail(desk: Desk) -> None:
    await desk.travel(at(DAY))
    token = desk.tokens["yuci.receptionist"]
    resident = {"applicantIdNumber": resident_id_number(1)}
    for claimed, stored in (
        ("WEB", "COUNTER"),
        ("MOBILE", "COUNTER"),
        ("SYSTEM", "COUNTER"),
        ("PROXY", "COUNTER"),
        ("COUNTER", "COUNTER"),
        ("MAIL", "MAIL"),
    ):
        case = await _submit(desk, token, claimed, **resident)
        assert case["channel"] == stored, claimed
