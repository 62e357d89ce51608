"""信息共享 instead of certificates (001 "能通过信息共享获取的材料，一律不得要求申请人提供"):
the 居民身份证 comes from the signed-in person's verified identity, and the 户口簿, 结婚证,
出生医学证明 and 不动产权证书 the demo's registers hold are in the e-licence library — so
a demo resident applying for any demo matter is asked for none of them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from levels.cases.sharing import is_own_card
from tests.scenarios.desk import CASE_FIELDS, Desk, at

SHARED = {"SFZ", "HKB", "JHZ", "CSYXZM", "BDCQZ"}
DAY = dt.date(2026, 8, 17)  # a day of its own
ITEMS = """
query($division: String!, $level: Level!) {
  matterImplementations(filter: {divisionCode: $division, level: $level}, first: 50) {
    edges { node { implementationCode matter { name }
                   materials { name satisfiedByLicenceType } } }
  }
}"""
SUBMIT = f"""
mutation($input: SubmitCaseInput!) {{
  submitCase(input: $input) {{ case {{ {CASE_FIELDS} }} errors {{ code field }} }}
}}"""
# the demo resident's own divisions: 榆次区, 修文镇, 修文村
WHERE = (("140702000000", "COUNTY"), ("140702101000", "TOWN"), ("140702101201", "VILLAGE"))


async def _items(desk: Desk, division: str, level: str) -> list[dict[str, Any]]:
    data = await desk.hub.gql(ITEMS, {"division": division, "level": level})
    assert "data" in data, data
    return [e["node"] for e in data["data"]["matterImplementations"]["edges"]]


async def _apply(desk: Desk, item: dict[str, Any], **given: Any) -> dict[str, Any]:
    """resident1 applies, handing in only what no register could share."""
    materials = [
        {"name": m["name"], "source": "FILE", "reference": f"file-{i}"}
        for i, m in enumerate(item["materials"])
        if m["satisfiedByLicenceType"] not in SHARED
    ]
    input = {"implementationCode": item["implementationCode"], "channel": "MOBILE"}
    data = await desk.run("resident1", SUBMIT, input={**input, "materials": materials, **given})
    payload: dict[str, Any] = data["submitCase"]
    return payload


async def test_demo_journeys_ask_for_no_paper_information_sharing_could_give_001(
    desk: Desk,
) -> None:
    await desk.travel(at(DAY, 9))
    walked = others = 0
    for division, level in WHERE:
        for item in await _items(desk, division, level):
            shared = {
                m["name"]: m["satisfiedByLicenceType"]
                for m in item["materials"]
                if m["satisfiedByLicenceType"] in SHARED
            }
            if not shared:
                continue
            applied = await _apply(desk, item)
            if [e["code"] for e in applied["errors"]] == ["IMPLEMENTATION_NOT_IN_FORCE"]:
                continue  # another scenario delegated or withdrew it meanwhile
            assert applied["errors"] == [], (item["matter"]["name"], applied)
            got = {m["name"]: m for m in applied["case"]["materials"]}
            for name, kind in shared.items():
                m = got[name]
                if kind == "SFZ" and not is_own_card(name):
                    # 父母居民身份证 and the like: the applicant's identity is not theirs
                    assert m["source"] != "IDENTITY", (item["matter"]["name"], m)
                    others += 1
                    continue
                assert m["state"] == "PROVIDED", (item["matter"]["name"], m)
                expected = "IDENTITY" if kind == "SFZ" else "LICENCE"
                assert m["source"] == expected, (item["matter"]["name"], m)
            walked += 1
    assert walked >= 15  # the demo matters that name a shared certificate
    assert others >= 1  # and at least one names someone else's card


async def test_identity_card_comes_from_the_verified_identity_never_on_paper_001(
    desk: Desk,
) -> None:
    await desk.travel(at(DAY, 11))
    (item,) = [
        i for i in await _items(desk, "140702000000", "COUNTY") if i["matter"]["name"] == "户口迁移"
    ]
    applied = await _apply(desk, item)
    case = applied["case"]
    card = next(m for m in case["materials"] if m["name"] == "居民身份证")
    assert (card["source"], card["note"]) == ("IDENTITY", "实名身份核验信息共享")
    assert card["reference"] == case["applicantIdMasked"]
    # nobody may claim a verified identity in the input …
    forged = [{"name": "居民身份证", "source": "IDENTITY", "reference": "x"}]
    refused = await desk.run(
        "resident1",
        SUBMIT,
        input={
            "implementationCode": item["implementationCode"],
            "channel": "MOBILE",
            "materials": forged,
        },
    )
    assert [(e["code"], e["field"]) for e in refused["submitCase"]["errors"]] == [
        ("IDENTITY_IS_SHARED", ["input", "materials", "0", "source"])
    ]
    # … and no notice asks for the card, nor for the library's 户口簿, on paper
    number = case["number"]
    for name in ("居民身份证", "户口簿"):
        notice = await desk.act(
            "yuci.receptionist", "issueSupplementNotice", number=number, materials=[{"name": name}]
        )
        assert [e["code"] for e in notice["errors"]] == ["HELD_IN_LIBRARY"], name
