"""Bilingual consultation desk (003 "1个综合性藏汉双语咨询服务导办台"), over HTTP at 修文镇:
the hall manager says which languages a window's desk and each staff member serve in;
``windows(orgCode, language)`` finds the desks serving Tibetan; a queue ticket that asks
for a language goes to a window serving it (refused when none does); a case records its
applicant's language and tells them where it stands in it — Tibetan where a variant is
written, else Chinese marked as a fallback."""

from __future__ import annotations

import datetime as dt
from typing import Any

from gateway.nodes import NodeRegistry
from levels.common.clock import FixedClock
from tests.scenarios.desk import BIRTH_REGISTRATION, DISABILITY_CARD, Desk, at
from tests.scenarios.test_village_proxy import AGENT, REFER, authorize, proxy_submit
from tests.support.messages import carry

XIUWEN = "140702101000"
WINDOWS = """
query($org: String!, $language: String) {
  windows(orgCode: $org, language: $language) { id number kind languages }
}"""
SET_WINDOW = """
mutation($input: SetWindowLanguagesInput!) {
  setWindowLanguages(input: $input) { window { number languages } errors { code field } }
}"""
SET_STAFF = """
mutation($input: SetStaffLanguagesInput!) {
  setStaffLanguages(input: $input) { window { number languages } errors { code field } }
}"""
ISSUE = """
mutation($input: IssueTicketInput!) {
  issueTicket(input: $input) {
    ticket { number language window { number } } errors { code field message }
  }
}"""
MESSAGE = """
query($n: String!, $language: String) {
  case(number: $n) {
    status applicantLanguage
    applicantMessage(language: $language) { language text fallback }
  }
}"""
WORKDAY = dt.date(2026, 12, 14)  # a Monday


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


async def windows(desk: Desk, language: str | None = None) -> dict[str, dict[str, Any]]:
    data = await desk.run("resident1", WINDOWS, org=XIUWEN, language=language)
    return {w["number"]: w for w in data["windows"]}


async def test_windows_carry_languages_and_the_desk_is_found_by_language(desk: Desk) -> None:
    await desk.travel(at(WORKDAY, 9))
    every = await windows(desk)
    assert "A01" in every and len(every) >= 2
    consultation = next(
        (w for w in every.values() if w["kind"] == "CONSULTATION"),
        next(w for n, w in every.items() if n != "A01"),
    )
    # the hall manager makes it the 藏汉双语 desk
    done = (
        await desk.run(
            "xiuwen.admin",
            SET_WINDOW,
            input={"windowId": consultation["id"], "languages": ["zh", "BO"]},
        )
    )["setWindowLanguages"]
    assert done["errors"] == [] and done["window"]["languages"] == ["zh", "bo"]
    assert set(await windows(desk, "bo")) == {consultation["number"]}

    # xiuwen.reviewer (B post at A01) speaks Tibetan: A01 serves in it too
    staff = (
        await desk.run(
            "xiuwen.admin",
            SET_STAFF,
            input={"windowId": every["A01"]["id"], "staff": "xiuwen.reviewer", "languages": ["bo"]},
        )
    )["setStaffLanguages"]
    assert staff["errors"] == [] and "bo" in staff["window"]["languages"]
    assert set(await windows(desk, "bo")) == {consultation["number"], "A01"}
    assert await windows(desk, "ug") == {}

    # bad input and the wrong people change nothing
    bad = (
        await desk.run(
            "xiuwen.admin", SET_WINDOW, input={"windowId": consultation["id"], "languages": ["xx"]}
        )
    )["setWindowLanguages"]
    assert codes(bad) == ["UNKNOWN_LANGUAGE"] and bad["errors"][0]["field"] == [
        "input",
        "languages",
        "0",
    ]
    for who in ("xiuwen.receptionist", "yuci.admin"):
        refused = (
            await desk.run(who, SET_WINDOW, input={"windowId": consultation["id"], "languages": []})
        )["setWindowLanguages"]
        assert codes(refused) in (["ROLE_NOT_ALLOWED"], ["NOT_AT_THIS_ORG"]), who
    assert (await windows(desk))[consultation["number"]]["languages"] == ["zh", "bo"]
    body = await desk.ask("resident1", WINDOWS, org=XIUWEN, language="klingon")
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNKNOWN_LANGUAGE"]


async def test_a_ticket_asking_for_tibetan_goes_to_a_window_serving_it(desk: Desk) -> None:
    await desk.travel(at(WORKDAY, 10))
    every = await windows(desk)
    await desk.run(
        "xiuwen.admin",
        SET_STAFF,
        input={"windowId": every["A01"]["id"], "staff": "xiuwen.reviewer", "languages": ["bo"]},
    )
    kind = every["A01"]["kind"]
    given = {"orgCode": XIUWEN, "windowKind": kind, "language": "bo"}
    taken = (await desk.run("resident3", ISSUE, input=given))["issueTicket"]
    assert taken["errors"] == []
    serving_bo = set(await windows(desk, "bo"))
    assert taken["ticket"]["language"] == "bo"
    assert taken["ticket"]["window"]["number"] in serving_bo
    # nobody at the centre serves in Uyghur: refused, no ticket
    uyghur = (await desk.run("resident2", ISSUE, input={**given, "language": "ug"}))["issueTicket"]
    assert codes(uyghur) == ["LANGUAGE_NOT_SERVED"]
    assert uyghur["errors"][0]["field"] == ["input", "language"]


async def test_the_case_records_the_applicant_s_language_and_speaks_it(desk: Desk) -> None:
    await desk.travel(at(WORKDAY, 11))
    materials = await desk.materials("000700800200")
    refused = await desk.submit("resident1", BIRTH_REGISTRATION, materials, applicantLanguage="tlh")
    assert codes(refused) == ["UNKNOWN_LANGUAGE"]
    submitted = await desk.submit(
        "resident1", BIRTH_REGISTRATION, materials, applicantLanguage="bo"
    )
    assert submitted["errors"] == []
    number = submitted["case"]["number"]
    case = (await desk.run("resident1", MESSAGE, n=number))["case"]
    assert case["applicantLanguage"] == "bo"
    message = case["applicantMessage"]
    assert (message["language"], message["fallback"]) == ("bo", False)
    assert message["text"].startswith("ཁྱེད་ཀྱི་ཞུ་ཡིག")  # Tibetan script
    # the same message in Chinese when asked; a language with no variant falls back
    zh = (await desk.run("resident1", MESSAGE, n=number, language="zh"))["case"]
    assert zh["applicantMessage"] == {
        "language": "zh",
        "text": "您的申请已收件，正在审核材料。",
        "fallback": False,
    }
    ug = (await desk.run("resident1", MESSAGE, n=number, language="ug"))["case"]
    assert (ug["applicantMessage"]["language"], ug["applicantMessage"]["fallback"]) == ("zh", True)

    # withdrawn: no Tibetan variant written yet, so Chinese, marked as a fallback
    assert (await desk.act("resident1", "withdrawCase", number=number))["errors"] == []
    after = (await desk.run("resident1", MESSAGE, n=number))["case"]
    assert after["applicantMessage"] == {
        "language": "zh",
        "text": "您已撤回申请。",
        "fallback": True,
    }


async def test_the_applicant_s_language_travels_with_a_referred_case(
    desk: Desk, nodes: NodeRegistry
) -> None:
    """王芳 reads Tibetan: the station refers her 残疾人证 application to 榆次区, whose
    row of the case keeps her language."""
    day = dt.date(2026, 12, 15)
    await desk.travel(at(day, 9))
    given = await authorize(
        desk, "resident3", basicCode="000700400100", mode="ACCOMPANIED", expiresOn="2027-06-30"
    )
    assert given["errors"] == [], given
    granted = given["authorization"]
    sent = await proxy_submit(
        desk,
        AGENT,
        DISABILITY_CARD,
        granted["id"],
        applicantLanguage="bo",
        villageService={"accompaniedBy": "代办员刘强"},
    )
    assert sent["errors"] == []
    number = sent["case"]["number"]
    assert (await desk.run(AGENT, REFER, input={"number": number}))["referCase"]["errors"] == []
    await carry(nodes, FixedClock(at(day, 10)))
    case = (await desk.run("yuci.receptionist", MESSAGE, n=number))["case"]
    assert case["applicantLanguage"] == "bo"
    assert (case["applicantMessage"]["language"], case["applicantMessage"]["fallback"]) == (
        "bo",
        False,
    )
