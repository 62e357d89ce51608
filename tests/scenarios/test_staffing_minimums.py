"""Staffing minimums over HTTP on the demo city: the supervision report lists the
village stations with fewer than 2 agents (seed 003 "各村（社区）至少明确2名代办员") and
the city and county centres' departments with fewer than 2 people on their windows
(seed 000 "各个部门原则上不得少于2人"); naming a department window's A and B posts takes
the department off the list."""

from __future__ import annotations

from typing import Any

from resolvers.globalid import encode_id
from tests.scenarios.desk import Desk

YUCI = "140702000000"
POLICE_WINDOW = encode_id("Window", YUCI, f"{YUCI}W05")  # D01 公安局
SHORT = """query {
  supervision(divisionCode: "140702000000") {
    stationsShortOfAgents { orgCode divisionCode agents minimum }
    departmentsShortOfStaff { orgCode departmentName staff minimum }
  } }"""
SET_POSTS = """mutation($input: SetWindowPostsInput!) {
  setWindowPosts(input: $input) { errors { code } } }"""


async def short(desk: Desk) -> dict[str, Any]:
    data: dict[str, Any] = (await desk.run("yuci.supervisor", SHORT))["supervision"]
    return data


async def test_seed_003_and_000_minimums_of_two_agents_and_two_window_staff(desk: Desk) -> None:
    listed = await short(desk)
    # the demo names two agents in every village
    assert listed["stationsShortOfAgents"] == []
    departments = {d["departmentName"]: d for d in listed["departmentsShortOfStaff"]}
    assert {d["minimum"] for d in departments.values()} == {2}
    assert all(d["staff"] < 2 for d in departments.values())
    # 民政局 has no window of its own: served at the comprehensive windows, not listed
    assert "民政局" not in departments
    assert departments["公安局"]["staff"] == 0

    await desk.sign_in("yuci.admin")
    named = {"windowId": POLICE_WINDOW, "aStaff": "yuci.receptionist", "bStaff": "yuci.output"}
    done = (await desk.run("yuci.admin", SET_POSTS, input=named))["setWindowPosts"]
    assert done["errors"] == []
    try:
        after = await short(desk)
        names = {d["departmentName"] for d in after["departmentsShortOfStaff"]}
        assert "公安局" not in names and names == set(departments) - {"公安局"}
        one = {"windowId": POLICE_WINDOW, "aStaff": "yuci.receptionist"}
        assert (await desk.run("yuci.admin", SET_POSTS, input=one))["setWindowPosts"] == {
            "errors": []
        }
        again = {d["departmentName"]: d for d in (await short(desk))["departmentsShortOfStaff"]}
        assert again["公安局"]["staff"] == 1
    finally:
        await desk.run("yuci.admin", SET_POSTS, input={"windowId": POLICE_WINDOW})
