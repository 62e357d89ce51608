"""Monthly report by the 5th working day (002 第二十条 "于每月第五个工作日前将上月的业务办理、
窗口工作人员考核和服务对象投诉等工作情况报县政务中心备案"), over HTTP: 修文镇's director files
November's report in December — its figures, the window staff assessment and the
month's complaints, who filed it and when; filing twice is refused, filing a month not
over is refused, filing after the due day is kept and marked late; the county's
supervision lists the town centres that have not filed by the due day. The demo's
修文镇 filed October's report on 5 November."""

from __future__ import annotations

import datetime as dt
from typing import Any

import chinese_calendar

from tests.scenarios.desk import YUCI_ORG, Desk, at

XIUWEN_CENTRE = "12140702MB1010008W"  # 修文镇便民服务中心
XIUWEN = "140702101000"
YUCI = "140702000000"
FILE = """
mutation($input: FileMonthlyReportInput!) {
  fileMonthlyReport(input: $input) {
    report {
      orgCode month dueOn late filedAt filedByName org { name }
      figures { received completed onTimeRate complaints }
      staff { name windows served ratings negative complaints }
      complaints { filedOn content status overdue }
    }
    errors { code field message }
  }
}"""
DUE = """
query($code: String!) {
  supervision(divisionCode: $code) {
    monthlyReportsDue { month dueOn overdue { code name divisionCode } }
  }
}"""
FILED = """
query($code: String!, $month: String) {
  monthlyReports(divisionCode: $code, month: $month) { orgCode month late filedByName }
}"""
POSTS = """
query { windows(orgCode: "140702101000") { number posts { a { staffName } b { staffName } } } }
"""


def fifth_working_day(year: int, month: int) -> dt.date:
    day, seen = dt.date(year, month, 1), 0
    while True:
        if chinese_calendar.is_workday(day):
            seen += 1
            if seen == 5:
                return day
        day += dt.timedelta(days=1)


async def file(desk: Desk, who: str, month: str, org: str = XIUWEN_CENTRE) -> dict[str, Any]:
    data = await desk.run(who, FILE, input={"orgCode": org, "month": month})
    payload: dict[str, Any] = data["fileMonthlyReport"]
    return payload


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


async def due(desk: Desk) -> dict[str, Any]:
    data = await desk.run("yuci.supervisor", DUE, code=YUCI)
    found: dict[str, Any] = data["supervision"]["monthlyReportsDue"]
    return found


async def test_the_monthly_report_is_filed_by_the_5th_working_day_and_late_centres_are_flagged(
    desk: Desk,
) -> None:
    november_due = fifth_working_day(2026, 12)
    assert november_due == dt.date(2026, 12, 7)  # Tue 1 … Fri 4, Mon 7

    # November is not over: nothing to file yet
    await desk.travel(at(dt.date(2026, 11, 20), 10))
    assert codes(await file(desk, "xiuwen.director", "2026-11")) == ["MONTH_NOT_OVER"]

    # 3 December: November's report is not due yet, October's is — 修文镇 filed it on
    # 5 November (the demo), the other centres of 榆次区 did not
    await desk.travel(at(dt.date(2026, 12, 3), 10))
    before = await due(desk)
    assert (before["month"], before["dueOn"]) == ("2026-10", "2026-11-06")
    october_late = {o["divisionCode"] for o in before["overdue"]}
    assert october_late and XIUWEN not in october_late

    # 4 December: the director files November's report, on time
    await desk.travel(at(dt.date(2026, 12, 4), 15))
    filed = await file(desk, "xiuwen.director", "2026-11")
    assert filed["errors"] == []
    report = filed["report"]
    assert (report["month"], report["dueOn"], report["late"]) == ("2026-11", "2026-12-07", False)
    assert report["orgCode"] == XIUWEN_CENTRE and report["org"]["name"].startswith("修文镇")
    assert report["filedAt"].startswith("2026-12-04") and report["filedByName"]
    # 服务对象投诉: the demo's complaint about the centre's phone, filed 5 November
    assert [c["content"] for c in report["complaints"]] == ["便民服务中心咨询电话一直无人接听"]
    assert report["figures"]["complaints"] >= 1
    # 窗口工作人员考核: everyone on the centre's window posts
    windows = (await desk.run("xiuwen.director", POSTS))["windows"]
    on_posts = {
        post["staffName"]
        for w in windows
        for post in (w["posts"]["a"], w["posts"]["b"])
        if post["staffName"]
    }
    assert on_posts and {s["name"] for s in report["staff"]} == on_posts
    assert all(s["windows"] for s in report["staff"])

    # filing twice: refused, the first stays
    assert codes(await file(desk, "xiuwen.director", "2026-11")) == ["ALREADY_FILED"]

    # 8 December: past November's due day; 修文镇 filed it, the other centres did not
    await desk.travel(at(dt.date(2026, 12, 8), 9))
    after = await due(desk)
    assert (after["month"], after["dueOn"]) == ("2026-11", "2026-12-07")
    late_centres = {o["divisionCode"] for o in after["overdue"]}
    assert XIUWEN not in late_centres and late_centres
    assert all(code.startswith("140702") for code in late_centres)

    # September's report, filed now: kept, and marked late (due after National Day)
    september_due = fifth_working_day(2026, 10)
    september = await file(desk, "xiuwen.admin", "2026-09")
    assert september["errors"] == []
    report = september["report"]
    assert (report["dueOn"], report["late"]) == (september_due.isoformat(), True)

    # the county reads what was filed
    listed = (await desk.run("yuci.supervisor", FILED, code=YUCI))["monthlyReports"]
    mine = [(r["month"], r["late"]) for r in listed if r["orgCode"] == XIUWEN_CENTRE]
    assert mine == [("2026-11", False), ("2026-10", False), ("2026-09", True)]
    one = (await desk.run("yuci.supervisor", FILED, code=YUCI, month="2026-11"))["monthlyReports"]
    assert [r["month"] for r in one] == ["2026-11"]


async def test_only_a_town_centre_s_director_or_admin_files_its_report(desk: Desk) -> None:
    await desk.travel(at(dt.date(2026, 12, 10), 10))
    assert codes(await file(desk, "xiuwen.receptionist", "2026-09")) == ["FORBIDDEN"]
    assert codes(await file(desk, "yuci.director", "2026-09")) == ["FORBIDDEN"]
    assert codes(await file(desk, "yuci.director", "2026-09", org=YUCI_ORG)) == [
        "NOT_A_TOWN_CENTRE"
    ]
    bad = await file(desk, "xiuwen.director", "2026-13")
    assert codes(bad) == ["INVALID_MONTH"] and bad["errors"][0]["field"] == ["input", "month"]
    # a resident reads no filed reports
    body = await desk.ask("resident1", FILED, code=YUCI)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
