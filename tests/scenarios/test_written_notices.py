"""Written notices people can hold (000 四.三.1–2 收件通知书、一次性告知通知书、决定受理
通知书、不予受理通知书、特殊环节通知书、不予许可决定书; 002 the village station's two-part
受理告知书), over HTTP as the real people: each step that produces a notice leaves one on
the case; its PDF, downloaded by the applicant (and printed at the counter: the same
bytes), says in Chinese what the seed requires, and its QR code verifies online and
offline with the e-licence keys; nobody else gets it."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import numpy as np
import zxingcpp
from pypdf import PdfReader

from gateway.nodes import NodeRegistry
from levels.common.clock import FixedClock
from levels.licences.offline import Kit
from levels.notices.tokens import open_notice
from tests.auth.conftest import bearer
from tests.scenarios.desk import DISABILITY_CARD, Desk, at, fire_timers
from tests.scenarios.test_village_proxy import AGENT, REFER, authorize, proxy_submit
from tests.support.messages import carry

DAY = dt.date(2026, 11, 16)  # a Monday
NOTICES = """
query($n: String!) { case(number: $n) {
  number status org { name }
  notices { id kind title issuedAt issuerCode issuerName url }
} }"""
VERIFY = """
query($t: String!) { verifyNotice(token: $t) {
  valid refusal noticeId kind title caseNumber issuerCode issuerName issuedAt
} }"""


async def _notices(desk: Desk, who: str, number: str) -> dict[str, Any]:
    case: dict[str, Any] = (await desk.run(who, NOTICES, n=number))["case"]
    return case


async def _download(desk: Desk, who: str | None, url: str) -> Any:
    headers = bearer(desk.tokens[who]) if who else {}
    return await desk.hub.gql.http.get(url, headers=headers)


async def _pdf(desk: Desk, who: str, url: str) -> tuple[bytes, str, list[str]]:
    """The notice's bytes, its text, and what a scanner reads from its QR codes."""
    response = await _download(desk, who, url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    scanned = []
    for page in reader.pages:
        for image in page.images:
            gray = np.array(image.image.convert("L"))
            # only QR codes: a scanner set to read any format may also see a 1-D
            # barcode in the pattern of a QR code, which a notice does not carry
            found = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode)
            assert len({r.text for r in found}) == 1, [r.text for r in found]
            scanned.append(str(found[0].text))
    return response.content, text, scanned


async def _verified(desk: Desk, token: str, number: str, kind: str) -> dict[str, Any]:
    """Online with verifyNotice (no sign-in), offline with the licence kit's keys."""
    online: dict[str, Any] = (await desk.hub.gql(VERIFY, {"t": token}))["data"]["verifyNotice"]
    assert online["valid"] is True and online["refusal"] is None, online
    assert (online["caseNumber"], online["kind"]) == (number, kind)
    kit = Kit((await desk.hub.gql.http.get("/licences/kit")).json())
    offline = open_notice(token, kit.keys.get)
    assert offline.valid and offline.claims is not None
    assert (offline.claims["case"], offline.claims["kind"]) == (number, kind)
    return online


async def test_each_step_leaves_its_written_notice_receipt_one_time_acceptance_denial_000(
    desk: Desk,
) -> None:
    """收件 → 收件通知书; 一次性告知 → 一次性告知通知书 naming every material to bring; 补正
    → 决定受理通知书; 特殊环节 → 特殊环节通知书; 不予许可 → 不予许可决定书 with its reasons
    and the right to 行政复议 (60 days) or 行政诉讼 (6 months). Each PDF carries the org's
    name and the case number, and a QR code that verifies online and offline."""
    await desk.travel(at(DAY, 9))
    materials = await desk.materials("000700400100")
    submitted = await desk.submit("resident1", DISABILITY_CARD, materials[:-1])
    assert submitted["errors"] == [], submitted
    number = submitted["case"]["number"]
    notice = await desk.act(
        "yuci.receptionist",
        "issueSupplementNotice",
        number=number,
        materials=[{"name": materials[0], "note": "申请表未签字"}],
    )
    assert notice["errors"] == [], notice
    await desk.travel(at(DAY + dt.timedelta(days=1), 10))
    supplied = await desk.act(
        "resident1",
        "supplementMaterials",
        number=number,
        materials=[
            {"name": materials[0], "source": "FILE", "reference": "file-signed"},
            {"name": materials[-1], "source": "PAPER"},
        ],
    )
    assert supplied["errors"] == [] and supplied["case"]["status"] == "ACCEPTED", supplied
    # acting twice: accepted already, so no second 决定受理通知书
    twice = await desk.act("yuci.receptionist", "acceptCase", number=number)
    assert [e["code"] for e in twice["errors"]] == ["INVALID_TRANSITION"]
    await desk.act("yuci.reviewer", "startReview", number=number)
    special = await desk.act(
        "yuci.reviewer", "startSpecialProcedure", number=number, kind="APPRAISAL"
    )
    assert special["errors"] == [], special
    await desk.act("yuci.reviewer", "finishSpecialProcedure", number=number)
    reasons = "经评定，残疾等级未达到发证标准"
    denied = await desk.act(
        "yuci.director", "decideCase", number=number, decision="DENIED", reasons=reasons
    )
    assert denied["errors"] == [] and denied["case"]["status"] == "DENIED", denied

    case = await _notices(desk, "resident1", number)
    org = case["org"]["name"]
    listed = case["notices"]
    assert [n["kind"] for n in listed] == [
        "RECEIPT",
        "SUPPLEMENT",
        "ACCEPTANCE",
        "SPECIAL_PROCEDURE",
        "DENIAL",
    ]
    assert [n["title"] for n in listed] == [
        "收件通知书",
        "一次性告知通知书",
        "决定受理通知书",
        "特殊环节通知书",
        "不予许可决定书",
    ]
    assert all(n["issuerName"] == org for n in listed)
    by_kind = {n["kind"]: n for n in listed}

    texts: dict[str, str] = {}
    for n in listed:
        body, text, scanned = await _pdf(desk, "resident1", n["url"])
        assert number in text and org in text and n["title"] in text, n["kind"]
        (token,) = scanned
        online = await _verified(desk, token, number, n["kind"])
        assert (online["noticeId"], online["issuerName"]) == (n["id"], org)
        texts[n["kind"]] = text
        # the counter prints the very same document
        printed = await _download(desk, "yuci.receptionist", n["url"])
        assert printed.status_code == 200 and printed.content == body

    # the one-time notice lists every material to bring — the one asked for and the
    # one never handed in — with the note and the deadline
    one_time = texts["SUPPLEMENT"].replace("\n", "")
    assert materials[0] in one_time and "申请表未签字" in one_time
    assert materials[-1] in one_time
    assert notice["case"]["supplementDeadline"] in one_time
    accepted_on = supplied["case"]["clock"]["acceptedOn"]
    assert accepted_on in texts["ACCEPTANCE"] and "补齐之日起" in texts["ACCEPTANCE"]
    assert "鉴定" in texts["SPECIAL_PROCEDURE"]
    denial = texts["DENIAL"].replace("\n", "")
    assert reasons in denial
    for right in ("行政复议", "六十日", "行政诉讼", "六个月"):
        assert right in denial, right
    assert by_kind["DENIAL"]["url"] == f"/notices/{by_kind['DENIAL']['id']}.pdf"


async def test_a_notice_is_for_those_who_may_read_its_case(desk: Desk) -> None:
    """The applicant, staff of the org and the auditor get the PDF; another resident
    and staff of another county get 404 (as if there were none); no sign-in, 401. A
    notice altered, or a token that is not a notice, does not verify."""
    await desk.travel(at(DAY, 9))
    materials = await desk.materials("000700400100")
    number = (await desk.submit("resident1", DISABILITY_CARD, materials))["case"]["number"]
    (receipt,) = (await _notices(desk, "resident1", number))["notices"]
    await desk.sign_in("resident2", "taigu.reviewer", "yuci.auditor")
    for who in ("resident1", "yuci.output", "yuci.auditor"):
        assert (await _download(desk, who, receipt["url"])).status_code == 200, who
    for who in ("resident2", "taigu.reviewer"):
        assert (await _download(desk, who, receipt["url"])).status_code == 404, who
    assert (await _download(desk, None, receipt["url"])).status_code == 401
    assert (await desk.run("resident2", NOTICES, n=number))["case"] is None
    unknown = receipt["url"].replace(f"-{receipt['id'].rsplit('-', 1)[1]}.pdf", "-99.pdf")
    assert (await _download(desk, "resident1", unknown)).status_code == 404

    _body, _text, (token,) = await _pdf(desk, "resident1", receipt["url"])
    head, claims, signature = token.split(".")
    forged = f"{head}.{claims[:-2]}{'A' if claims[-2] != 'A' else 'B'}{claims[-1]}.{signature}"
    for bad, refusal in ((forged, "BAD_SIGNATURE"), ("not-a-token", "MALFORMED")):
        said = (await desk.hub.gql(VERIFY, {"t": bad}))["data"]["verifyNotice"]
        assert (said["valid"], said["refusal"], said["caseNumber"]) == (False, refusal, None)


async def test_rejection_notice_names_where_to_apply_and_the_appeal_rights_000(
    desk: Desk,
) -> None:
    """不予受理 (approved by a second person) → 不予受理通知书: the reason, the
    authority to apply to instead, and the right to 行政复议 or 行政诉讼."""
    await desk.travel(at(DAY, 9))
    materials = await desk.materials("000700400100")
    number = (await desk.submit("resident1", DISABILITY_CARD, materials))["case"]["number"]
    authority = "太谷区残疾人联合会"
    await desk.act(
        "yuci.receptionist",
        "rejectCase",
        number=number,
        reason="NOT_OUR_JURISDICTION",
        authority=authority,
    )
    # a proposal is not a refusal: no notice yet
    kinds = [n["kind"] for n in (await _notices(desk, "resident1", number))["notices"]]
    assert kinds == ["RECEIPT"]
    approved = await desk.act("yuci.director", "approveRejection", number=number)
    assert approved["errors"] == [], approved
    notices = (await _notices(desk, "resident1", number))["notices"]
    assert [n["kind"] for n in notices] == ["RECEIPT", "REJECTION"]
    _body, text, (token,) = await _pdf(desk, "resident1", notices[1]["url"])
    flat = text.replace("\n", "")
    assert "不予受理通知书" in flat and number in flat
    assert "不属于本行政机关职权范围" in flat and authority in flat
    assert "行政复议" in flat and "行政诉讼" in flat
    await _verified(desk, token, number, "REJECTION")


async def test_deemed_acceptance_leaves_a_notice_signed_when_first_served_000(
    desk: Desk, nodes: NodeRegistry
) -> None:
    """No one-time notice within 3 working days: the timer accepts the case from
    receipt, and a 决定受理通知书 says so; the timer holds no signing key, so the
    notice is signed when first downloaded, and reads the same every time after."""
    await desk.travel(at(DAY, 9))
    materials = await desk.materials("000700400100")
    number = (await desk.submit("resident1", DISABILITY_CARD, materials))["case"]["number"]
    late = at(DAY + dt.timedelta(days=4), 10)  # Friday: 3 working days have passed
    await fire_timers(nodes, late)
    await desk.travel(late)
    notices = (await _notices(desk, "resident1", number))["notices"]
    assert [n["kind"] for n in notices] == ["RECEIPT", "ACCEPTANCE"]
    first, text, (token,) = await _pdf(desk, "resident1", notices[1]["url"])
    assert "收到申请材料之日起即为受理" in text.replace("\n", "")
    assert DAY.isoformat() in text  # the clock counts from receipt
    await _verified(desk, token, number, "ACCEPTANCE")
    again, _text, _scanned = await _pdf(desk, "resident1", notices[1]["url"])
    assert again == first


async def test_village_station_gives_a_two_part_acceptance_slip_then_the_county_accepts_002(
    desk: Desk, nodes: NodeRegistry
) -> None:
    """An agent receives 赵磊's application at 修文村: the station's 受理告知书 has two
    parts on one page (申办人联, 存根联), each with the time, the matter, the applicant
    and the receiver; referred up, 榆次区 accepts on receipt and its 决定受理通知书 is
    on the same case."""
    day = dt.date(2026, 3, 31)
    await desk.travel(at(day, 9))
    card = (await authorize(desk, basicCode="000700400100", mode="ACCOMPANIED"))["authorization"]
    # 陪同办理: the station records who went with him
    aid = {"villageService": {"accompaniedBy": "代办员王芳"}}
    submitted = await proxy_submit(desk, AGENT, DISABILITY_CARD, card["id"], **aid)
    assert submitted["errors"] == [], submitted
    number = submitted["case"]["number"]
    at_station = await _notices(desk, "resident4", number)
    (slip,) = at_station["notices"]
    assert (slip["kind"], slip["title"]) == ("VILLAGE_RECEIPT", "受理告知书")
    station = at_station["org"]["name"]
    assert slip["issuerName"] == station
    body, text, scanned = await _pdf(desk, "resident4", slip["url"])
    flat = text.replace("\n", "")
    assert "第一联 申办人联" in flat and "第二联 存根联" in flat
    assert flat.count(number) >= 2 and flat.count("赵磊") >= 2
    assert station in flat and "残疾人证" in flat and "收件人" in flat
    # one page, its QR code drawn on both parts (one image, placed twice)
    (page,) = PdfReader(io.BytesIO(body)).pages
    assert len(scanned) == 1 and page.get_contents().get_data().count(b" Do") == 2
    await _verified(desk, scanned[0], number, "VILLAGE_RECEIPT")
    # the agent who received it prints it at the station
    assert (await _download(desk, AGENT, slip["url"])).status_code == 200

    assert (await desk.run(AGENT, REFER, input={"number": number}))["referCase"]["errors"] == []
    await carry(nodes, FixedClock(at(day, 10)))
    notices = (await _notices(desk, "resident4", number))["notices"]
    assert [n["kind"] for n in notices] == ["VILLAGE_RECEIPT", "ACCEPTANCE"]
    county = notices[1]
    assert county["issuerName"] != station
    _body, text, (token,) = await _pdf(desk, "resident4", county["url"])
    assert "代办转报" in text.replace("\n", "") and county["issuerName"] in text
    await _verified(desk, token, number, "ACCEPTANCE")
