"""004 "对于证照库中已有的电子证照，要100%应用，不得再要求申请人提交纸质证照": a
material filled from the e-licence library is never asked for on paper — a supplement
notice naming it is refused, and it cannot be handed in on paper in its place."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.scenarios.desk import Desk, at

FOOD = "000100200100"  # 食品经营许可: its 营业执照 is filled from the library
DAY = dt.date(2026, 11, 16)  # a Monday
IMPLEMENTATION = """
query($code: String!) {
  matterImplementations(filter: {basicCode: $code, divisionCode: "140702000000",
                                 level: COUNTY}) {
    edges { node { implementationCode materials { name satisfiedByLicenceType } } }
  }
}"""


async def _food_case(desk: Desk) -> tuple[dict[str, Any], str, list[str]]:
    """resident1 (张明, who holds a VALID 营业执照) applies for 食品经营许可 at 榆次区."""
    data = await desk.hub.gql(IMPLEMENTATION, {"code": FOOD})
    node = data["data"]["matterImplementations"]["edges"][0]["node"]
    wanted = {m["name"]: m["satisfiedByLicenceType"] for m in node["materials"]}
    held = next(n for n, t in wanted.items() if t == "YYZZ")
    others = [n for n in wanted if n != held]
    applied = await desk.submit("resident1", node["implementationCode"], others)
    assert applied["errors"] == [], applied
    case = applied["case"]
    (filled,) = [m for m in case["materials"] if m["name"] == held]
    assert (filled["source"], filled["state"], filled["note"]) == (
        "LICENCE",
        "PROVIDED",
        "电子证照库调取",
    )
    return case, held, others


async def test_notice_naming_a_library_material_is_refused_004(desk: Desk) -> None:
    """不得再要求申请人提交纸质证照: a notice naming the library-filled 营业执照 is
    refused (HELD_IN_LIBRARY) and changes nothing; one naming only other materials
    goes ahead and leaves the licence as it was."""
    await desk.travel(at(DAY, 9))
    case, held, others = await _food_case(desk)
    number = case["number"]

    refused = await desk.act(
        "yuci.receptionist",
        "issueSupplementNotice",
        number=number,
        materials=[{"name": held, "note": "请提交营业执照原件"}, {"name": others[0]}],
    )
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [
        ("HELD_IN_LIBRARY", ["input", "materials", "0", "name"])
    ]
    now = (
        await desk.run(
            "yuci.receptionist",
            "query($n: String!) { case(number: $n) { status version } }",
            n=number,
        )
    )["case"]
    assert (now["status"], now["version"]) == ("SUBMITTED", case["version"])

    notice = await desk.act(
        "yuci.receptionist",
        "issueSupplementNotice",
        number=number,
        materials=[{"name": others[0], "note": "复印件不清晰"}],
    )
    assert notice["errors"] == [], notice
    states = {m["name"]: (m["state"], m["source"]) for m in notice["case"]["materials"]}
    assert states[held] == ("PROVIDED", "LICENCE")
    assert states[others[0]][0] == "INCORRECT"


async def test_library_material_cannot_be_handed_in_on_paper_004(desk: Desk) -> None:
    """The 补正 may not swap the library's 营业执照 for a paper one: refused, typed,
    and the case keeps waiting for the material the notice did ask for."""
    await desk.travel(at(DAY, 9))
    case, held, others = await _food_case(desk)
    number = case["number"]
    notice = await desk.act(
        "yuci.receptionist",
        "issueSupplementNotice",
        number=number,
        materials=[{"name": others[0], "note": "复印件不清晰"}],
    )
    assert notice["errors"] == [], notice

    swapped = await desk.act(
        "yuci.receptionist",
        "supplementMaterials",
        number=number,
        materials=[{"name": others[0], "source": "PAPER"}, {"name": held, "source": "PAPER"}],
    )
    assert [(e["code"], e["field"]) for e in swapped["errors"]] == [
        ("HELD_IN_LIBRARY", ["input", "materials", "1", "source"])
    ]

    supplied = await desk.act(
        "yuci.receptionist",
        "supplementMaterials",
        number=number,
        materials=[{"name": others[0], "source": "PAPER"}],
    )
    assert supplied["errors"] == [], supplied
    assert supplied["case"]["status"] == "ACCEPTED"
    (kept,) = [m for m in supplied["case"]["materials"] if m["name"] == held]
    assert (kept["source"], kept["note"]) == ("LICENCE", "电子证照库调取")
