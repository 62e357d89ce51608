"""Supervision figures (电子监察, 月报表) in the schema: the ``supervision`` query's
report, per org, per level and in total. What each figure counts is defined in
``levels/supervision/counts.py`` and ``combine.py`` (and in
docs/concepts/evaluation-and-supervision.md)."""

from __future__ import annotations

import datetime as dt

import strawberry

from levels.supervision.combine import Figures, LevelFigures, OrgFigures, Report, TargetCheck
from levels.supervision.staffing import DepartmentStaff, StationAgents
from schema.divisions import Division, ServiceOrg
from schema.enums import Level, SupervisionTarget
from schema.info import Info
from schema.monthly_reports import MonthlyReportFields


@strawberry.type(description="好差评 given in the period, per level (upheld appeals left out)")
class RatingDistribution:
    very_satisfied: int = strawberry.field(description="非常满意")
    satisfied: int = strawberry.field(description="满意")
    basic: int = strawberry.field(description="基本满意")
    dissatisfied: int = strawberry.field(description="不满意 (差评)")
    very_dissatisfied: int = strawberry.field(description="非常不满意 (差评)")
    total: int = strawberry.field(description="All ratings")


@strawberry.type(description="A figure against the target a seed sets for it")
class TargetFigure:
    target: SupervisionTarget = strawberry.field(description="Which target")
    value: float | None = strawberry.field(description="The figure (null: nothing to measure)")
    threshold: float = strawberry.field(description="The target, as a share (0.80 = 80 %)")
    strictly_over: bool = strawberry.field(
        description="true: the figure must be over the threshold (超过); false: at least it"
    )
    met: bool | None = strawberry.field(description="null when there is nothing to measure")
    seed: str = strawberry.field(description="The seed and its words that set the target")

    @classmethod
    def of(cls, check: TargetCheck) -> TargetFigure:
        t = check.target
        return cls(
            target=t.kind,
            value=check.value,
            threshold=t.threshold,
            strictly_over=t.strictly_over,
            met=check.met,
            seed=t.seed,
        )


@strawberry.type(description="The supervision figures of an org, a level or a division")
class SupervisionFigures:
    matters: int = strawberry.field(description="Published items (实施清单) of the orgs")
    one_visit_matters: int = strawberry.field(
        description="Of those, promising maxVisits ≤ 1 (一趟不用跑 or 最多跑一趟)"
    )
    zero_visit_matters: int = strawberry.field(
        description="Of those, promising maxVisits = 0 (一趟不用跑)"
    )
    one_visit_matter_share: float | None = strawberry.field(
        description="oneVisitMatters ÷ matters; target over 0.80"
    )
    zero_visit_conversion: float | None = strawberry.field(
        description="zeroVisitMatters ÷ oneVisitMatters; target ≥ 0.50"
    )
    received: int = strawberry.field(description="Cases received (submitted) in the period")
    accepted: int = strawberry.field(
        description="Of those, accepted (incl. deemed accepted and completed on the spot), "
        "counted where accepted"
    )
    completed: int = strawberry.field(
        description="Decided or completed on the spot in the period, counted where decided"
    )
    completed_on_time: int = strawberry.field(description="Of those, by the promised due date")
    on_time_rate: float | None = strawberry.field(description="completedOnTime ÷ completed")
    immediate: int = strawberry.field(description="Completions on the spot (即办)")
    immediate_share: float | None = strawberry.field(
        description="immediate ÷ completed; target ≥ 0.70"
    )
    immediate_target_met: bool | None = strawberry.field(
        description="The 即办 share reaches the 70 % target (null: nothing completed)"
    )
    promised_days: int = strawberry.field(description="Sum of promised limits of received cases")
    legal_days: int = strawberry.field(description="Sum of legal limits of the same cases")
    compression_rate: float | None = strawberry.field(
        description="promisedDays ÷ legalDays (承诺时限压缩; lower is better)"
    )
    online: int = strawberry.field(description="Received on the WEB or MOBILE channel")
    online_rate: float | None = strawberry.field(description="online ÷ received")
    on_site: int = strawberry.field(
        description="Handed in in person and completed on the spot the same day (当场办结)"
    )
    on_site_completion_rate: float | None = strawberry.field(description="onSite ÷ completed")
    at_most_one_visit: int = strawberry.field(
        description="Received cases whose item promises maxVisits ≤ 1 (最多跑一次)"
    )
    at_most_one_visit_share: float | None = strawberry.field(
        description="atMostOneVisit ÷ received; target ≥ 0.70"
    )
    targets: list[TargetFigure] = strawberry.field(
        description="Each target the seeds set (即办件 ≥ 70 %; 004's max-one-visit targets) "
        "against its figure"
    )
    delivered: int = strawberry.field(description="Delivered (出件) in the period")
    archive_overdue: int = strawberry.field(
        description="Of those, not archived within 1 working day of delivery (归档逾期)"
    )
    yellow_cards: int = strawberry.field(
        description="电子监察 yellow cards issued in the period, against any clock"
    )
    red_cards: int = strawberry.field(
        description="Red cards issued in the period: overdue cases, special procedures past "
        "their own limit, online applications not pre-reviewed in time"
    )
    procedures_overdue: int = strawberry.field(
        description="Of the red cards, special procedures (特殊环节) past their own limit"
    )
    pre_reviews_overdue: int = strawberry.field(
        description="Of the red cards, online applications not pre-reviewed within 2 "
        "working days (网上预审)"
    )
    ratings: RatingDistribution = strawberry.field(description="Ratings given in the period")
    negative_rate: float | None = strawberry.field(
        description="(DISSATISFIED + VERY_DISSATISFIED) ÷ ratings (差评率)"
    )
    complaints: int = strawberry.field(description="Complaints filed in the period")
    complaints_handled: int = strawberry.field(description="Of the complaints filed, those handled")
    complaints_overdue: int = strawberry.field(
        description="Of those, handled after their deadline or still open past it"
    )

    @classmethod
    def of(cls, f: Figures) -> SupervisionFigures:
        c = f.counts
        return cls(
            matters=c.matters,
            one_visit_matters=c.one_visit_matters,
            zero_visit_matters=c.zero_visit_matters,
            one_visit_matter_share=f.one_visit_matter_share,
            zero_visit_conversion=f.zero_visit_conversion,
            received=c.received,
            accepted=c.accepted,
            completed=c.completed,
            completed_on_time=c.completed_on_time,
            on_time_rate=f.on_time_rate,
            immediate=c.immediate,
            immediate_share=f.immediate_share,
            immediate_target_met=f.immediate_target_met,
            promised_days=c.promised_days,
            legal_days=c.legal_days,
            compression_rate=f.compression_rate,
            online=c.online,
            online_rate=f.online_rate,
            on_site=c.on_site,
            on_site_completion_rate=f.on_site_completion_rate,
            at_most_one_visit=c.at_most_one_visit,
            at_most_one_visit_share=f.at_most_one_visit_share,
            targets=[TargetFigure.of(check) for check in f.targets],
            delivered=c.delivered,
            archive_overdue=c.archive_overdue,
            yellow_cards=c.yellow_cards,
            red_cards=c.red_cards,
            procedures_overdue=c.procedures_overdue,
            pre_reviews_overdue=c.pre_reviews_overdue,
            ratings=RatingDistribution(
                very_satisfied=c.very_satisfied,
                satisfied=c.satisfied,
                basic=c.basic,
                dissatisfied=c.dissatisfied,
                very_dissatisfied=c.very_dissatisfied,
                total=f.rated,
            ),
            negative_rate=f.negative_rate,
            complaints=c.complaints,
            complaints_handled=c.complaints_handled,
            complaints_overdue=c.complaints_overdue,
        )


@strawberry.type(description="The supervision figures of one level")
class LevelSupervision:
    level: Level = strawberry.field(description="The level whose store holds it")
    figures: SupervisionFigures = strawberry.field(description="The level's figures")

    @classmethod
    def of(cls, row: LevelFigures) -> LevelSupervision:
        return cls(level=row.level, figures=SupervisionFigures.of(row.figures))


@strawberry.type(description="The supervision figures of one service org")
class OrgSupervision:
    org_code: str = strawberry.field(description="The service org's unified social credit code")
    org_name: str = strawberry.field(description="The service org's name")
    level: Level = strawberry.field(description="The level whose store holds it")
    figures: SupervisionFigures = strawberry.field(description="The org's figures")

    @classmethod
    def of(cls, row: OrgFigures) -> OrgSupervision:
        return cls(
            org_code=row.org.code,
            org_name=row.org.name,
            level=row.org.level,
            figures=SupervisionFigures.of(row.figures),
        )

    @strawberry.field(description="The service org (null when its node did not answer)")
    async def org(self, info: Info) -> ServiceOrg | None:
        row = await info.context.loaders.service_org_by_code.load((self.level, self.org_code))
        return ServiceOrg.from_row(row) if row else None


@strawberry.type(
    description="A village station with fewer agents (代办员) than seed 003's minimum "
    "(各村（社区）至少明确2名代办员)"
)
class StationShortOfAgents:
    org_code: str = strawberry.field(description="The station's credit code")
    org_name: str = strawberry.field(description="The station's name")
    division_code: str = strawberry.field(description="The village")
    agents: int = strawberry.field(description="Active agent accounts of the village")
    minimum: int = strawberry.field(description="The minimum the seed sets")

    @classmethod
    def of(cls, row: StationAgents) -> StationShortOfAgents:
        return cls(
            org_code=row.org_code,
            org_name=row.org_name,
            division_code=row.division_code,
            agents=row.agents,
            minimum=row.minimum,
        )


@strawberry.type(
    description="A department of a city or county centre with fewer staff on its windows "
    "than seed 000's minimum (各个部门原则上不得少于2人)"
)
class DepartmentShortOfStaff:
    org_code: str = strawberry.field(description="The service org's unified social credit code")
    org_name: str = strawberry.field(description="The service org's name")
    department_id: str = strawberry.field(description="The department's id (`<division>D01` …)")
    department_name: str = strawberry.field(description="The department's name")
    staff: int = strawberry.field(
        description="Distinct people on the A and B posts of the department's own windows"
    )
    minimum: int = strawberry.field(description="The minimum the seed sets")

    @classmethod
    def of(cls, row: DepartmentStaff) -> DepartmentShortOfStaff:
        return cls(
            org_code=row.org_code,
            org_name=row.org_name,
            department_id=row.department_id,
            department_name=row.department_name,
            staff=row.staff,
            minimum=row.minimum,
        )


@strawberry.type(
    description="电子监察 figures of a division and everything below it, for a period "
    "(月报表): in total, per level and per service org"
)
class SupervisionReport(MonthlyReportFields):
    division_code: str = strawberry.field(description="The division reported on")
    from_: dt.date = strawberry.field(name="from", description="First day (China date)")
    to: dt.date = strawberry.field(description="Last day, included")
    totals: SupervisionFigures = strawberry.field(
        description="The figures of the division and everything below it"
    )
    by_level: list[LevelSupervision] = strawberry.field(
        description="One row per level that has an org in the division, top down"
    )
    by_org: list[OrgSupervision] = strawberry.field(
        description="One row per service org in the division, by org code"
    )
    unavailable_levels: list[Level] = strawberry.field(
        description="Level nodes that did not answer: their figures are missing (partial data)"
    )
    stations_short_of_agents: list[StationShortOfAgents] = strawberry.field(
        description="Village stations of the division with fewer than 2 active agents"
    )
    departments_short_of_staff: list[DepartmentShortOfStaff] = strawberry.field(
        description="City and county centre departments with fewer than 2 window staff "
        "(a department with no window of its own, served at the comprehensive windows, "
        "is not listed)"
    )

    @classmethod
    def of(cls, r: Report) -> SupervisionReport:
        return cls(
            division_code=r.division_code,
            from_=r.period.start,
            to=r.period.end,
            totals=SupervisionFigures.of(r.totals),
            by_level=[LevelSupervision.of(row) for row in r.by_level],
            by_org=[OrgSupervision.of(row) for row in r.by_org],
            unavailable_levels=list(r.unavailable),
            stations_short_of_agents=[
                StationShortOfAgents.of(row) for row in r.stations_short_of_agents
            ],
            departments_short_of_staff=[
                DepartmentShortOfStaff.of(row) for row in r.departments_short_of_staff
            ],
        )

    @strawberry.field(description="The division")
    async def division(self, info: Info) -> Division | None:
        row = await info.context.loaders.division_by_code.load(self.division_code)
        return Division.from_row(row) if row else None
