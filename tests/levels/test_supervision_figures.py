"""Supervision figures on a fixed, hand-built dataset: rows written straight into
fresh stores, every figure counted by hand in the comments below and asserted exactly.

The period is October 2026 (China dates), "today" 2026-11-20. 榆次区 (county) and
one of its villages hold cases; one town has none; 太谷区, another county, has a case,
a card and a rating that the 榆次区 report must not count.

County store, 榆次区 centre (org Y), items K1 (max 1 visit, 10/20 days) and K2
(max 2 visits, 8/20 days), K3 (0 visits, no cases) and K4 (0 visits, a DRAFT: not
counted):
  c1  K1 WEB     submitted 10-09, accepted, due 10-23, decided 10-20 (on time),
                 delivered 10-21 and not archived within 1 working day (flagged)
  c2  K2 COUNTER submitted 10-12, accepted, due 10-22, decided 10-27 (late),
                 delivered 10-28, archived 10-29
  c3  K1 MOBILE  submitted 10-28, deemed accepted, not decided
  c4  K2 COUNTER submitted 10-15, refused (不予受理): received, not accepted
  c5  K1 WEB     submitted 09-25 (before the period), due 10-15, decided 10-10,
                 delivered 10-12, archived the same day
  c6  K1 WEB     submitted 11-02 (after the period), accepted
  c7  K1 PROXY   referred: received at the village 10-14, accepted at the county on
                 receipt 10-15, due 10-29, decided 10-28 — a REFERRED copy stays in
                 the village store; delivered 11-02 (after the period), flagged
Village store, 修文村 station (org V), item V1 (immediate, max 0 visits, 0/5 days):
  c7  the REFERRED copy (its item K1 is in the county store)
  c8  V1 PROXY   submitted 10-20 09:00, completed on the spot 09:10
  c9  V1 WEB     submitted 10-21, completed on the spot the same day (not in person)
  c10 V1 COUNTER submitted 10-31 23:30 China (15:30 UTC), completed 11-01 00:10 China
                 (16:10 UTC on 10-31: a UTC date would count it in October)

Org Y: published items K1 K2 K3 = 3, at most one visit K1 K3 = 2 (0.6667: not over
  the 80 % of seed 004), 0 visits K3 = 1 (1 of 2 = 0.5: the 50 % met);
  received c1 c2 c3 c4 = 4; online c1 c3 = 2; promised 10+8+10+8 = 36, legal 80;
  at most one visit c1 c3 = 2; accepted c1 c2 c3 c7 = 4; completed c1 c2 c5 c7 = 4,
  on time c1 c5 c7 = 3; immediate 0; on site 0; delivered c1 c2 c5 = 3, archived
  late c1 = 1 (归档逾期: seed 001, 1 working day; c7's is November's); cards: c2
  yellow 10-18, red 10-23 (c5's yellow of 09-30 is outside); ratings: c1
  VERY_SATISFIED + SATISFIED, c2 VERY_DISSATISFIED whose appeal was UPHELD (left out),
  c2 DISSATISFIED appeal DISMISSED (counts), c5 BASIC of 09-29 (outside) → 1/1/0/1/0,
  total 3, 差评 1/3;
  complaints k1 (handled in time), k2 (handled late), k3 (open past its 11-02 due
  date), k4 (open, due 11-25), k5 filed 09-20 (outside) → 4, handled 2, overdue 2.
Org V: items V1 = 1, at most one visit 1, 0 visits 1 (every target met);
  received c7 c8 c9 c10 = 4; online c9 = 1; promised 10+0+0+0 = 10, legal
  20+5+5+5 = 35; at most one visit c7 (K1, looked up in the county store) + c8 c9 c10 = 4;
  accepted c8 c9 c10 = 3; completed c8 c9 = 2, on time 2; immediate 2; on site c8 = 1;
  one VERY_SATISFIED rating.
Town org T: nothing; its rates are null.
Totals: items 4, at most one visit 3 (0.75: not over 80 %), 0 visits 2 (0.6667 ≥ 50 %);
  received 8, accepted 7, completed 6, on time 5 (0.8333), immediate 2 (0.3333,
  target not met), promised 46 / legal 115 (0.4), online 3 (0.375), on site 1
  (0.1667), at most one visit 6 (0.75), delivered 3, archived late 1, yellow 1, red 1,
  ratings 2/1/0/1/0 = 4 (差评 0.25), complaints 4, handled 2, overdue 2.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from gateway.nodes import NodeRegistry, count_statements
from levels.cases.enums import ApplicantKind, CardColor, CaseStatus
from levels.cases.models import Case, SupervisionCard
from levels.common.clock import CHINA
from levels.common.codes import DivisionCode, make_uscc
from levels.common.enums import HandlingKind, Level, MatterStatus, OnlineLevel, OrgKind
from levels.common.errors import DomainError
from levels.common.models import Division, MatterImplementation, ServiceOrg
from levels.evaluations.enums import AppealStatus, ComplaintStatus, RatingLevel
from levels.evaluations.models import Complaint, Evaluation
from levels.supervision.combine import Figures, Report
from levels.supervision.errors import SupervisionErrorCode
from levels.supervision.period import Period, month_period, period_of
from levels.supervision.targets import (
    ONE_VISIT_MATTERS,
    ONE_VISIT_VOLUME,
    ZERO_VISIT_CONVERSION,
    SupervisionTarget,
)
from resolvers.sessions import RequestSessions
from resolvers.supervision import collect, find_division
from tests.conftest import BACKEND, make_registry
from tests.support import pg

OCTOBER = Period(dt.date(2026, 10, 1), dt.date(2026, 10, 31))
TODAY = dt.date(2026, 11, 20)

CITY, YUCI, TAIGU = "140700000000", "140702000000", "140703000000"
TOWN, VILLAGE = "140702101000", "140702101201"
ORG_Y = make_uscc("12140702MB0000000")
ORG_B = make_uscc("12140703MB0000000")
ORG_T = make_uscc("12140702MB1010000")
ORG_V = make_uscc("12140702MB1012010")
K1 = f"{ORG_Y}2000000000001"
K2 = f"{ORG_Y}2000000000002"
K3 = f"{ORG_Y}2000000000003"
K4 = f"{ORG_Y}2000000000004"
KB = f"{ORG_B}2000000000001"
V1 = f"{ORG_V}4000000000009"


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=CHINA)


def d(month: int, day: int) -> dt.date:
    return dt.date(2026, month, day)


def item(code: str, org: str, division: str, level: Level, **kw: Any) -> MatterImplementation:
    return MatterImplementation(
        code=code,
        basic_code=code[19:],
        org_code=org,
        division_code=division,
        level=level,
        handling_kind=kw.get("kind", HandlingKind.PROMISED),
        promised_time_limit_days=kw["promised"],
        max_visits=kw["visits"],
        online_level=OnlineLevel.FULLY_ONLINE,
        status=kw.get("status", MatterStatus.PUBLISHED),
        updated_at=at(1, 1),
    )


def case(number: str, impl: str, org: str, division: str, level: Level, **kw: Any) -> Case:
    promised, legal = {K1: (10, 20), K2: (8, 20), KB: (10, 20), V1: (0, 5)}[impl]
    return Case(
        number=number,
        implementation_code=impl,
        basic_code=impl[19:],
        matter_name="事项",
        handling_kind=HandlingKind.IMMEDIATE if impl == V1 else HandlingKind.PROMISED,
        level=level,
        org_code=org,
        division_code=division,
        applicant_kind=ApplicantKind.PERSON,
        applicant_id="resident",
        applicant_name="张明",
        applicant_id_masked="1407**********0011",
        submitted_by="resident",
        received_level=kw.get("received_level", level),
        referred_to_level=kw.get("referred_to_level"),
        channel=kw["channel"],
        status=kw["status"],
        legal_limit_days=legal,
        promised_limit_days=promised,
        submitted_at=kw["submitted"],
        accepted_on=kw.get("accepted_on"),
        deemed_accepted=kw.get("deemed", False),
        due_on=kw.get("due_on"),
        decided_at=kw.get("decided"),
        delivered_at=kw.get("delivered"),
        archive_overdue=kw.get("archive_late", False),
        closed_at=kw.get("closed"),
        version=1,
        updated_at=at(11, 20),
    )


def rating(number: str, channel: str, level: RatingLevel, org: str, division: str,
           rated: dt.datetime, appeal: AppealStatus | None = None) -> Evaluation:  # fmt: skip
    return Evaluation(
        case_number=number,
        channel=channel,
        rating=level,
        negative=level in (RatingLevel.DISSATISFIED, RatingLevel.VERY_DISSATISFIED),
        rated_by="resident",
        rated_at=rated,
        org_code=org,
        division_code=division,
        basic_code="000000000001",
        matter_name="事项",
        appeal_status=appeal,
    )


def complaint(filed: dt.datetime, due: dt.date, handled: dt.datetime | None) -> Complaint:
    return Complaint(
        org_code=ORG_Y,
        division_code=YUCI,
        complainant_id="resident",
        channel="WEB",
        content="投诉",
        filed_at=filed,
        due_on=due,
        status=ComplaintStatus.HANDLED if handled else ComplaintStatus.OPEN,
        handled_at=handled,
        handled_by="yuci.supervisor" if handled else None,
        handling="已处理" if handled else None,
    )


def card(number: str, color: CardColor, issued: dt.datetime, org: str, division: str) -> Any:
    return SupervisionCard(
        case_number=number,
        color=color,
        issued_at=issued,
        due_on=issued.date(),
        org_code=org,
        division_code=division,
    )


def org(code: str, division: str, name: str, level: Level, kind: OrgKind) -> ServiceOrg:
    return ServiceOrg(code=code, division_code=division, name=name, level=level, kind=kind)


C = CaseStatus
REFERRED = f"{VILLAGE}-20261014-00001"


def county_rows() -> list[Any]:
    y = {"org": ORG_Y, "division": YUCI, "level": Level.COUNTY}
    return [
        Division(code=YUCI, name="榆次区", level=Level.COUNTY, parent_code=CITY),
        Division(code=TAIGU, name="太谷区", level=Level.COUNTY, parent_code=CITY),
        org(ORG_Y, YUCI, "榆次区政务服务中心", Level.COUNTY, OrgKind.SERVICE_CENTER),
        org(ORG_B, TAIGU, "太谷区政务服务中心", Level.COUNTY, OrgKind.SERVICE_CENTER),
        item(K1, ORG_Y, YUCI, Level.COUNTY, promised=10, visits=1),
        item(K2, ORG_Y, YUCI, Level.COUNTY, promised=8, visits=2),
        item(K3, ORG_Y, YUCI, Level.COUNTY, promised=5, visits=0),
        item(K4, ORG_Y, YUCI, Level.COUNTY, promised=5, visits=0, status=MatterStatus.DRAFT),
        item(KB, ORG_B, TAIGU, Level.COUNTY, promised=10, visits=0),
        case(f"{YUCI}-20261009-00001", K1, **y, channel="WEB", status=C.DELIVERED,
             submitted=at(10, 9), accepted_on=d(10, 9), due_on=d(10, 23), decided=at(10, 20),
             delivered=at(10, 21), archive_late=True),
        case(f"{YUCI}-20261012-00001", K2, **y, channel="COUNTER", status=C.ARCHIVED,
             submitted=at(10, 12), accepted_on=d(10, 12), due_on=d(10, 22), decided=at(10, 27),
             delivered=at(10, 28), closed=at(10, 29)),
        case(f"{YUCI}-20261028-00001", K1, **y, channel="MOBILE", status=C.ACCEPTED,
             submitted=at(10, 28), accepted_on=d(10, 28), deemed=True, due_on=d(11, 11)),
        case(f"{YUCI}-20261015-00001", K2, **y, channel="COUNTER", status=C.REJECTED,
             submitted=at(10, 15), closed=at(10, 15, 11)),
        case(f"{YUCI}-20260925-00001", K1, **y, channel="WEB", status=C.ARCHIVED,
             submitted=at(9, 25), accepted_on=d(9, 25), due_on=d(10, 15), decided=at(10, 10),
             delivered=at(10, 12, 9), closed=at(10, 12)),
        case(f"{YUCI}-20261102-00001", K1, **y, channel="WEB", status=C.ACCEPTED,
             submitted=at(11, 2), accepted_on=d(11, 2), due_on=d(11, 16)),
        case(REFERRED, K1, **y, received_level=Level.VILLAGE, channel="PROXY",
             status=C.DELIVERED, submitted=at(10, 14), accepted_on=d(10, 15), due_on=d(10, 29),
             decided=at(10, 28), delivered=at(11, 2), archive_late=True),
        case(f"{TAIGU}-20261010-00001", KB, ORG_B, TAIGU, Level.COUNTY, channel="WEB",
             status=C.DELIVERED, submitted=at(10, 10), accepted_on=d(10, 10), due_on=d(10, 24),
             decided=at(10, 12), delivered=at(10, 13), archive_late=True),
        card(f"{YUCI}-20261012-00001", CardColor.YELLOW, at(10, 18), ORG_Y, YUCI),
        card(f"{YUCI}-20261012-00001", CardColor.RED, at(10, 23), ORG_Y, YUCI),
        card(f"{YUCI}-20260925-00001", CardColor.YELLOW, at(9, 30), ORG_Y, YUCI),
        card(f"{TAIGU}-20261010-00001", CardColor.RED, at(10, 20), ORG_B, TAIGU),
        rating(f"{YUCI}-20261009-00001", "WEB", RatingLevel.VERY_SATISFIED, ORG_Y, YUCI,
               at(10, 21)),
        rating(f"{YUCI}-20261009-00001", "MOBILE", RatingLevel.SATISFIED, ORG_Y, YUCI,
               at(10, 22)),
        rating(f"{YUCI}-20261012-00001", "WEB", RatingLevel.VERY_DISSATISFIED, ORG_Y, YUCI,
               at(10, 28), AppealStatus.UPHELD),
        rating(f"{YUCI}-20261012-00001", "MOBILE", RatingLevel.DISSATISFIED, ORG_Y, YUCI,
               at(10, 29), AppealStatus.DISMISSED),
        rating(f"{YUCI}-20260925-00001", "WEB", RatingLevel.BASIC, ORG_Y, YUCI, at(9, 29)),
        rating(f"{TAIGU}-20261010-00001", "WEB", RatingLevel.VERY_DISSATISFIED, ORG_B, TAIGU,
               at(10, 13)),
        complaint(at(10, 5), d(10, 12), at(10, 10)),
        complaint(at(10, 20), d(10, 27), at(10, 30)),
        complaint(at(10, 26), d(11, 2), None),
        complaint(at(10, 30), d(11, 25), None),
        complaint(at(9, 20), d(9, 27), None),
    ]  # fmt: skip


def town_rows() -> list[Any]:
    return [
        Division(code=TOWN, name="修文镇", level=Level.TOWN, parent_code=YUCI),
        org(ORG_T, TOWN, "修文镇便民服务中心", Level.TOWN, OrgKind.CONVENIENCE_CENTER),
    ]


def village_rows() -> list[Any]:
    v = {"org": ORG_V, "division": VILLAGE, "level": Level.VILLAGE}
    return [
        Division(code=VILLAGE, name="修文村", level=Level.VILLAGE, parent_code=TOWN),
        org(ORG_V, VILLAGE, "修文村便民服务站", Level.VILLAGE, OrgKind.CONVENIENCE_STATION),
        item(V1, ORG_V, VILLAGE, Level.VILLAGE, kind=HandlingKind.IMMEDIATE, promised=0,
             visits=0),
        case(REFERRED, K1, **v, referred_to_level=Level.COUNTY, channel="PROXY",
             status=C.REFERRED, submitted=at(10, 14)),
        case(f"{VILLAGE}-20261020-00001", V1, **v, channel="PROXY", status=C.COMPLETED,
             submitted=at(10, 20, 9), accepted_on=d(10, 20), due_on=d(10, 20),
             decided=at(10, 20, 9, 10), closed=at(10, 20, 9, 10)),
        case(f"{VILLAGE}-20261021-00001", V1, **v, channel="WEB", status=C.COMPLETED,
             submitted=at(10, 21, 8), accepted_on=d(10, 21), due_on=d(10, 21),
             decided=at(10, 21, 15), closed=at(10, 21, 15)),
        case(f"{VILLAGE}-20261031-00001", V1, **v, channel="COUNTER", status=C.COMPLETED,
             submitted=at(10, 31, 23, 30), accepted_on=d(11, 1), due_on=d(11, 2),
             decided=at(11, 1, 0, 10), closed=at(11, 1, 0, 10)),
        rating(f"{VILLAGE}-20261020-00001", "WEB", RatingLevel.VERY_SATISFIED, ORG_V, VILLAGE,
               at(10, 20, 12)),
    ]  # fmt: skip


@pytest.fixture(scope="module")
async def stores(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[NodeRegistry]:
    if BACKEND == "postgres":
        await pg.require_services()
    _settings, nodes, created = await make_registry(
        tmp_path_factory.mktemp("supervision"), "sv" + uuid.uuid4().hex[:8]
    )
    rows = {Level.COUNTY: county_rows(), Level.TOWN: town_rows(), Level.VILLAGE: village_rows()}
    for level, objects in rows.items():
        async with nodes[level].sessions.begin() as session:
            for row in objects:  # in order: orgs before their items and cases
                session.add(row)
                await session.flush()
    try:
        yield nodes
    finally:
        await nodes.dispose()
        for name in created:
            await pg.drop_database(name)


async def report_of(nodes: NodeRegistry, code: str, period: Period = OCTOBER) -> Report:
    sessions = RequestSessions(nodes)
    try:
        division = await find_division(sessions, DivisionCode(code, _level(code)), timeout=10)
        report, failures = await collect(sessions, division, period, today=TODAY, timeout=10)
    finally:
        await sessions.close()
    assert failures == []
    return report


def _level(code: str) -> Level:
    return {YUCI: Level.COUNTY, TAIGU: Level.COUNTY, TOWN: Level.TOWN}.get(code, Level.VILLAGE)


def _r4(value: float | None) -> float | None:
    """Rates are exact; the hand-counted figures below are written to 4 places."""
    return None if value is None else round(value, 4)


def as_dict(f: Figures) -> dict[str, Any]:
    c = f.counts
    return {
        "matters": (c.matters, c.one_visit_matters, c.zero_visit_matters),
        "one_visit_matter_share": _r4(f.one_visit_matter_share),
        "zero_visit_conversion": _r4(f.zero_visit_conversion),
        "targets": {t.target.kind.value: t.met for t in f.targets},
        "received": c.received,
        "accepted": c.accepted,
        "completed": c.completed,
        "completed_on_time": c.completed_on_time,
        "on_time_rate": _r4(f.on_time_rate),
        "immediate": c.immediate,
        "immediate_share": _r4(f.immediate_share),
        "immediate_target_met": f.immediate_target_met,
        "promised_days": c.promised_days,
        "legal_days": c.legal_days,
        "compression_rate": _r4(f.compression_rate),
        "online": c.online,
        "online_rate": _r4(f.online_rate),
        "on_site": c.on_site,
        "on_site_completion_rate": _r4(f.on_site_completion_rate),
        "at_most_one_visit": c.at_most_one_visit,
        "at_most_one_visit_share": _r4(f.at_most_one_visit_share),
        "delivered": (c.delivered, c.archive_overdue),
        "yellow_cards": c.yellow_cards,
        "red_cards": c.red_cards,
        "ratings": (c.very_satisfied, c.satisfied, c.basic, c.dissatisfied, c.very_dissatisfied),
        "rated": f.rated,
        "negative_rate": _r4(f.negative_rate),
        "complaints": (c.complaints, c.complaints_handled, c.complaints_overdue),
    }


ORG_Y_FIGURES = {
    "matters": (3, 2, 1), "one_visit_matter_share": 0.6667, "zero_visit_conversion": 0.5,
    "targets": {"IMMEDIATE_SHARE": False, "ONE_VISIT_MATTERS": False, "ONE_VISIT_VOLUME": False,
                "ZERO_VISIT_CONVERSION": True},
    "received": 4, "accepted": 4, "completed": 4, "completed_on_time": 3,
    "on_time_rate": 0.75, "immediate": 0, "immediate_share": 0.0,
    "immediate_target_met": False, "promised_days": 36, "legal_days": 80,
    "compression_rate": 0.45, "online": 2, "online_rate": 0.5, "on_site": 0,
    "on_site_completion_rate": 0.0, "at_most_one_visit": 2, "at_most_one_visit_share": 0.5,
    "delivered": (3, 1),
    "yellow_cards": 1, "red_cards": 1, "ratings": (1, 1, 0, 1, 0), "rated": 3,
    "negative_rate": 0.3333, "complaints": (4, 2, 2),
}  # fmt: skip
ORG_V_FIGURES = {
    "matters": (1, 1, 1), "one_visit_matter_share": 1.0, "zero_visit_conversion": 1.0,
    "targets": {"IMMEDIATE_SHARE": True, "ONE_VISIT_MATTERS": True, "ONE_VISIT_VOLUME": True,
                "ZERO_VISIT_CONVERSION": True},
    "received": 4, "accepted": 3, "completed": 2, "completed_on_time": 2,
    "on_time_rate": 1.0, "immediate": 2, "immediate_share": 1.0,
    "immediate_target_met": True, "promised_days": 10, "legal_days": 35,
    "compression_rate": 0.2857, "online": 1, "online_rate": 0.25, "on_site": 1,
    "on_site_completion_rate": 0.5, "at_most_one_visit": 4, "at_most_one_visit_share": 1.0,
    "delivered": (0, 0),
    "yellow_cards": 0, "red_cards": 0, "ratings": (1, 0, 0, 0, 0), "rated": 1,
    "negative_rate": 0.0, "complaints": (0, 0, 0),
}  # fmt: skip
NOTHING = {
    "matters": (0, 0, 0), "one_visit_matter_share": None, "zero_visit_conversion": None,
    "targets": {"IMMEDIATE_SHARE": None, "ONE_VISIT_MATTERS": None, "ONE_VISIT_VOLUME": None,
                "ZERO_VISIT_CONVERSION": None},
    "received": 0, "accepted": 0, "completed": 0, "completed_on_time": 0,
    "on_time_rate": None, "immediate": 0, "immediate_share": None,
    "immediate_target_met": None, "promised_days": 0, "legal_days": 0,
    "compression_rate": None, "online": 0, "online_rate": None, "on_site": 0,
    "on_site_completion_rate": None, "at_most_one_visit": 0, "at_most_one_visit_share": None,
    "delivered": (0, 0),
    "yellow_cards": 0, "red_cards": 0, "ratings": (0, 0, 0, 0, 0), "rated": 0,
    "negative_rate": None, "complaints": (0, 0, 0),
}  # fmt: skip
TOTALS = {
    "matters": (4, 3, 2), "one_visit_matter_share": 0.75, "zero_visit_conversion": 0.6667,
    "targets": {"IMMEDIATE_SHARE": False, "ONE_VISIT_MATTERS": False, "ONE_VISIT_VOLUME": True,
                "ZERO_VISIT_CONVERSION": True},
    "received": 8, "accepted": 7, "completed": 6, "completed_on_time": 5,
    "on_time_rate": 0.8333, "immediate": 2, "immediate_share": 0.3333,
    "immediate_target_met": False, "promised_days": 46, "legal_days": 115,
    "compression_rate": 0.4, "online": 3, "online_rate": 0.375, "on_site": 1,
    "on_site_completion_rate": 0.1667, "at_most_one_visit": 6, "at_most_one_visit_share": 0.75,
    "delivered": (3, 1),
    "yellow_cards": 1, "red_cards": 1, "ratings": (2, 1, 0, 1, 0), "rated": 4,
    "negative_rate": 0.25, "complaints": (4, 2, 2),
}  # fmt: skip


async def test_county_figures_per_org_per_level_and_in_total(stores: NodeRegistry) -> None:
    report = await report_of(stores, YUCI)

    assert report.division_name == "榆次区"
    # one row per org of 榆次区, by code; 太谷区's is not among them
    assert [(r.org.code, r.org.level) for r in report.by_org] == sorted(
        [(ORG_Y, Level.COUNTY), (ORG_T, Level.TOWN), (ORG_V, Level.VILLAGE)]
    )
    by_org = {r.org.code: as_dict(r.figures) for r in report.by_org}
    assert by_org[ORG_Y] == ORG_Y_FIGURES
    assert by_org[ORG_V] == ORG_V_FIGURES
    assert by_org[ORG_T] == NOTHING
    assert [(r.level, as_dict(r.figures)) for r in report.by_level] == [
        (Level.COUNTY, ORG_Y_FIGURES),
        (Level.TOWN, NOTHING),
        (Level.VILLAGE, ORG_V_FIGURES),
    ]
    assert as_dict(report.totals) == TOTALS


async def test_a_village_alone_still_finds_its_referred_item_above(stores: NodeRegistry) -> None:
    report = await report_of(stores, VILLAGE)

    assert [r.org.code for r in report.by_org] == [ORG_V]
    assert [r.level for r in report.by_level] == [Level.VILLAGE]
    assert as_dict(report.totals) == ORG_V_FIGURES


async def test_the_other_county_counts_only_its_own(stores: NodeRegistry) -> None:
    report = await report_of(stores, TAIGU)

    # one case (received, accepted, decided on time), a red card, one 差评
    figures = as_dict(report.totals)
    assert (figures["received"], figures["accepted"], figures["completed_on_time"]) == (1, 1, 1)
    assert (figures["at_most_one_visit"], figures["red_cards"], figures["rated"]) == (1, 1, 1)
    assert figures["negative_rate"] == 1.0
    assert figures["delivered"] == (1, 1)  # delivered 10-13 and archived late
    assert figures["matters"] == (1, 1, 1)  # KB: 一趟不用跑


async def test_november_counts_the_late_night_completion(stores: NodeRegistry) -> None:
    november = Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    report = await report_of(stores, VILLAGE, november)

    # c10 was received in October and completed on 11-01 (China): a completion of
    # November, on the spot but not on the day it was received
    figures = as_dict(report.totals)
    assert (figures["received"], figures["completed"], figures["immediate"]) == (0, 1, 1)
    assert figures["on_site"] == 0


async def test_seed_001_late_archiving_is_counted_where_and_when_delivered(
    stores: NodeRegistry,
) -> None:
    """归档 within 1 working day (seed 001): the figure counts the flagged cases of
    those delivered in the period — c7, delivered 11-02 and archived late, is
    November's, not October's."""
    november = Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    figures = as_dict((await report_of(stores, YUCI, november)).totals)
    assert figures["delivered"] == (1, 1)
    assert as_dict((await report_of(stores, YUCI)).totals)["delivered"] == (3, 1)


async def test_statements_per_store_are_fixed(stores: NodeRegistry) -> None:
    with count_statements(stores) as counts:
        await report_of(stores, YUCI)

    # six aggregates per store at or below the county; the county also answers the
    # division look-up, the max_visits of the item the village's referred case names,
    # and its departments' window staff (two); the identity store the agents per village
    assert counts == {"city": 0, "county": 10, "town": 6, "village": 6, "identity": 1}


async def test_unknown_division_is_a_typed_error(stores: NodeRegistry) -> None:
    sessions = RequestSessions(stores)
    with pytest.raises(DomainError) as raised:
        await find_division(sessions, DivisionCode("140702102000", Level.TOWN), timeout=10)
    await sessions.close()
    assert raised.value.code is SupervisionErrorCode.UNKNOWN_DIVISION


def test_period_defaults_to_the_month_so_far_and_is_checked() -> None:
    assert period_of(None, None, today=TODAY) == Period(d(11, 1), TODAY)
    assert period_of(None, d(10, 31), today=TODAY) == OCTOBER
    assert period_of(d(9, 1), None, today=TODAY) == Period(d(9, 1), TODAY)
    for start, end in [(d(11, 2), d(11, 1)), (dt.date(2025, 1, 1), dt.date(2026, 1, 2))]:
        with pytest.raises(DomainError) as raised:
            period_of(start, end, today=TODAY)
        assert raised.value.code is SupervisionErrorCode.INVALID_PERIOD
    assert period_of(dt.date(2025, 1, 1), dt.date(2026, 1, 1), today=TODAY).start.year == 2025
    assert month_period("2026-02") == Period(dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    for bad in ("2026-13", "2026-1", "Oct 2026", "2026-10-01"):
        with pytest.raises(DomainError):
            month_period(bad)


async def test_seed_004_max_one_visit_targets_each_against_its_figure(
    stores: NodeRegistry,
) -> None:
    """Seed 004 (三): "一趟不用跑"和"最多跑一趟"的事项超过80%, "最多跑一趟"事项的办件量
    达到总办件量的70%以上, 50%以上的"最多跑一趟"事项转化为"一趟不用跑" — each figure of
    榆次区 beside its target."""
    report = await report_of(stores, YUCI)
    checks = {t.target.kind: t for t in report.totals.targets}
    matters = checks[SupervisionTarget.ONE_VISIT_MATTERS]
    assert (round(matters.value or 0, 4), matters.target.threshold, matters.met) == (
        0.75,
        0.80,
        False,
    )
    volume = checks[SupervisionTarget.ONE_VISIT_VOLUME]
    assert (volume.value, volume.target.threshold, volume.met) == (0.75, 0.70, True)
    zero = checks[SupervisionTarget.ZERO_VISIT_CONVERSION]
    assert (round(zero.value or 0, 4), zero.target.threshold, zero.met) == (0.6667, 0.50, True)
    # "超过80%" is strictly over; "70%以上" and "50%以上" include the mark itself
    assert ONE_VISIT_MATTERS.met(0.80) is False and ONE_VISIT_MATTERS.met(0.8001) is True
    assert ONE_VISIT_VOLUME.met(0.70) is True and ONE_VISIT_VOLUME.met(0.6999) is False
    assert ZERO_VISIT_CONVERSION.met(0.50) is True and ZERO_VISIT_CONVERSION.met(None) is None
