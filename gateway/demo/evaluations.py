"""好差评 and 投诉 of the demo city, made the way real ones are (``levels.evaluations``
calls by the applicants and staff, at the times given here), so their deadlines, audit
events and roll-ups are what the hub itself would have written.

* Every case of the demo with a result is rated by its applicant — some on two
  channels — with all five levels on the web portal, the app, a kiosk and the counter.
* 榆次区: the approved 最低生活保障 case's 差评 was called back and rectified; the
  refused 残疾人证 case's 差评 was called back and is still open; the denied case's 非常
  不满意 was appealed by the director and waits for a supervisor — and its
  rectification ran past its deadline.
* 修文镇: a 差评 given by mistake on the web was appealed, and the appeal upheld.
* Complaints: one about a 榆次区 window, handled and rated; one about a staff member
  and a case, open; one about a 修文镇 window, past its deadline.

The demo's "now" is 2026-11-20: the worker's pass of that morning flags what is
overdue."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from auth.models import Account
from gateway.demo.accounts import demo_actor
from gateway.nodes import Node, NodeRegistry
from levels.calendar.workdays import load_calendar
from levels.cases.models import Case
from levels.cases.service import Actor
from levels.common.clock import CHINA
from levels.common.enums import LEVELS, Level
from levels.common.models import Window
from levels.evaluations import service
from levels.evaluations.enums import RatingLevel, Satisfaction
from levels.evaluations.models import Complaint, Evaluation, Rectification
from levels.evaluations.timers import flag_overdue

R = RatingLevel
# the worker's pass on the morning of the demo's "now"
PASS_AT = dt.datetime(2026, 11, 20, 7, 0, tzinfo=CHINA)


def _at(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=CHINA)


@dataclass(frozen=True)
class Rating:
    number: str
    channel: str
    rating: RatingLevel
    at: dt.datetime
    comment: str | None = None


RATINGS = (
    Rating("140700000000-20261026-00001", "WEB", R.VERY_SATISFIED, _at(11, 10, 10),
           "网上申请，一次办好"),
    Rating("140702000000-20260915-00001", "MOBILE", R.SATISFIED, _at(9, 26, 9)),
    Rating("140702000000-20260915-00001", "KIOSK", R.BASIC, _at(9, 28, 15),
           "取证时排队较久"),
    Rating("140702000000-20261012-00001", "MOBILE", R.VERY_SATISFIED, _at(10, 22, 20),
           "邮寄到家，很方便"),
    Rating("140702000000-20261012-00002", "WEB", R.SATISFIED, _at(10, 26, 11)),
    Rating("140702000000-20261020-00001", "MOBILE", R.DISSATISFIED, _at(11, 6, 19),
           "等待时间太长，多次打电话询问进度"),
    Rating("140702000000-20261020-00001", "WEB", R.SATISFIED, _at(11, 7, 9)),
    Rating("140702000000-20261021-00001", "MOBILE", R.VERY_DISSATISFIED, _at(11, 9, 8),
           "不予批准的理由没有讲清楚"),
    Rating("140702000000-20261112-00001", "MOBILE", R.DISSATISFIED, _at(11, 17, 18),
           "窗口没有一次讲清楚该去哪里办，白跑一趟"),
    Rating("140702000000-20261113-00001", "MOBILE", R.VERY_SATISFIED, _at(11, 13, 11),
           "当场办结"),
    Rating("140702000000-20261113-00001", "COUNTER", R.SATISFIED, _at(11, 13, 10, 5)),
    Rating("140702101000-20260615-00001", "COUNTER", R.BASIC, _at(6, 15, 9, 50),
           "材料清单不够清楚"),
    Rating("140702101000-20261102-00001", "MOBILE", R.SATISFIED, _at(11, 2, 12)),
    Rating("140702101000-20261102-00001", "WEB", R.DISSATISFIED, _at(11, 3, 21)),
    Rating("140702101201-20261119-00001", "MOBILE", R.VERY_SATISFIED, _at(11, 19, 16),
           "代办员帮忙跑腿，不用进城"),
)  # fmt: skip

# (case, channel) -> what the staff and supervisors did about the 差评
CALLBACKS = {
    ("140702000000-20261020-00001", "MOBILE"): (
        "yuci.reviewer", _at(11, 9, 10), "申请人反映审查期间无人告知进度",
    ),
    ("140702000000-20261112-00001", "MOBILE"): (
        "yuci.receptionist", _at(11, 18, 9), "已向申请人说明应向太谷区残联申请，申请人表示理解",
    ),
}  # fmt: skip
COMPLETIONS = {
    ("140702000000-20261020-00001", "MOBILE"): (
        "yuci.reviewer", _at(11, 11, 16), "审查期间每周短信告知办理进度；窗口公示咨询电话",
    ),
}  # fmt: skip
APPEALS = {
    ("140702000000-20261021-00001", "MOBILE"): (
        "yuci.director", _at(11, 10, 9), "决定书已载明不予许可的理由和救济途径",
    ),
    ("140702101000-20261102-00001", "WEB"): (
        "xiuwen.receptionist", _at(11, 4, 9), "申请人已在手机上评价满意，网页评价系误操作",
    ),
}  # fmt: skip
DECISIONS = {
    ("140702101000-20261102-00001", "WEB"): (
        "xiuwen.supervisor", _at(11, 5, 15), True, "经电话核实，申请人确认误操作",
    ),
}  # fmt: skip


@dataclass(frozen=True)
class DemoComplaint:
    complainant: str
    level: Level  # of the store that keeps it: the case's, else the window's or staff's
    filed_at: dt.datetime
    content: str
    case_number: str | None = None
    window_id: str | None = None
    staff: str | None = None
    handled: tuple[str, dt.datetime, str] | None = None
    satisfaction: tuple[Satisfaction, dt.datetime] | None = None


COMPLAINTS = (
    DemoComplaint(
        "resident2", Level.COUNTY, _at(11, 10, 17), "取号后等候超过一小时，窗口只开了一个",
        window_id="140702000000W01",  # 榆次区 综合受理窗口
        handled=("yuci.supervisor", _at(11, 12, 10), "高峰时段增开两个综合受理窗口，调整排班"),
        satisfaction=(Satisfaction.SATISFIED, _at(11, 13, 9)),
    ),
    DemoComplaint(
        "resident1", Level.COUNTY, _at(11, 18, 20), "受理时工作人员态度生硬",
        case_number="140702000000-20261113-00001", staff="yuci.receptionist",
    ),
    DemoComplaint(
        "resident3", Level.TOWN, _at(11, 5, 11), "便民服务中心咨询电话一直无人接听",
        window_id="140702101000W01",  # 修文镇 综合受理窗口
    ),
)  # fmt: skip


def _node(nodes: NodeRegistry, level: Level, code: str) -> Node:
    """The node keeping the row of ``level`` about the division ``code`` begins with
    (the owner of its ancestor at ``level``)."""
    return nodes.owner_at(code, level)


async def _holder(nodes: NodeRegistry, number: str) -> tuple[Level, Case]:
    """The store that holds the case now, and its row there."""
    for level in LEVELS:
        async with _node(nodes, level, number).sessions() as session:
            row = await session.get(Case, number)
        if row is not None and row.level is level:
            return level, row
    raise LookupError(number)


async def load_demo_evaluations(nodes: NodeRegistry) -> dict[str, int]:
    async with nodes.identity.sessions() as session:
        accounts = {a.username: a for a in await session.scalars(select(Account))}
    by_id = {a.id: a for a in accounts.values()}

    def staff(username: str, channel: str = "COUNTER") -> Actor:
        return demo_actor(accounts[username], channel)

    rated: dict[tuple[str, str], tuple[Level, service.Rated]] = {}
    for r in RATINGS:
        level, case = await _holder(nodes, r.number)
        async with _node(nodes, level, r.number).sessions.begin() as s:
            rated[(r.number, r.channel)] = level, await service.rate_case(
                r.number, r.rating, r.comment, session=s,
                actor=demo_actor(by_id[case.applicant_id], r.channel), now=r.at,
                calendar=await load_calendar(session=s),
            )  # fmt: skip

    def rectification(key: tuple[str, str]) -> tuple[Level, int]:
        level, done = rated[key]
        assert done.rectification is not None, key
        return level, done.rectification.id

    for key, (who, when, note) in CALLBACKS.items():
        level, rid = rectification(key)
        async with _node(nodes, level, key[0]).sessions.begin() as s:
            await service.record_callback(
                rid, note, level=level.value, session=s, actor=staff(who), now=when
            )
    for key, (who, when, measures) in COMPLETIONS.items():
        level, rid = rectification(key)
        async with _node(nodes, level, key[0]).sessions.begin() as s:
            await service.complete_rectification(
                rid, measures, level=level.value, session=s, actor=staff(who), now=when
            )
    for key, (who, when, reason) in APPEALS.items():
        level, done = rated[key]
        async with _node(nodes, level, key[0]).sessions.begin() as s:
            await service.appeal_rating(
                done.evaluation.id, reason, level=level.value, session=s, actor=staff(who),
                now=when,
            )  # fmt: skip
    for key, (who, when, uphold, note) in DECISIONS.items():
        level, done = rated[key]
        async with _node(nodes, level, key[0]).sessions.begin() as s:
            await service.decide_appeal(
                done.evaluation.id, uphold, note, level=level.value, session=s,
                actor=staff(who, "WEB"), now=when,
            )  # fmt: skip

    for c in COMPLAINTS:
        await _complaint(nodes, accounts, c)

    # the worker's pass of the demo's morning: what ran past its deadline is flagged
    for node in nodes:
        for held in node.levels:
            await flag_overdue(node.sessions, level=held.value, now=PASS_AT)
    counts: dict[str, int] = {}
    for model in (Evaluation, Rectification, Complaint):
        counts[model.__tablename__] = 0
        for node in nodes:
            async with node.sessions() as s:
                counts[model.__tablename__] += (
                    await s.scalar(select(func.count()).select_from(model)) or 0
                )
    return counts


async def _complaint(nodes: NodeRegistry, accounts: dict[str, Account], c: DemoComplaint) -> None:
    complainant = demo_actor(accounts[c.complainant], "MOBILE")
    staff = accounts[c.staff] if c.staff else None
    level = c.level
    where = c.case_number or c.window_id or (accounts[c.staff].division_code if c.staff else None)
    node = _node(nodes, level, where or "")
    async with node.sessions.begin() as s:
        # kept with the case, else the window's org, else the staff member's
        if c.case_number is not None:
            case = await s.get(Case, c.case_number)
            assert case is not None
            org, division = case.org_code, case.division_code
        elif c.window_id is not None:
            window = await s.get(Window, c.window_id)
            assert window is not None
            org, division = window.org_code, window.id[:12]
        else:
            assert staff is not None and staff.org_code and staff.division_code
            org, division = staff.org_code, staff.division_code
        draft = service.ComplaintDraft(
            content=c.content, org_code=org, division_code=division, case_number=c.case_number,
            window_id=c.window_id, staff_id=staff.id if staff else None,
        )  # fmt: skip
        row = await service.file_complaint(
            draft, level=level.value, session=s, actor=complainant, now=c.filed_at,
            calendar=await load_calendar(session=s),
        )  # fmt: skip
    if c.handled is not None:
        who, when, handling = c.handled
        async with node.sessions.begin() as s:
            await service.handle_complaint(
                row.id, handling, level=level.value, session=s,
                actor=demo_actor(accounts[who], "WEB"), now=when,
            )  # fmt: skip
    if c.satisfaction is not None:
        answer, when = c.satisfaction
        async with node.sessions.begin() as s:
            await service.rate_complaint_handling(
                row.id, answer, level=level.value, session=s, actor=complainant, now=when
            )
