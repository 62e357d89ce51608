"""From the stores' per-org counts to the report: per org, per level, in total. Rates
are computed once, from the summed counts (never averaged), exact (clients round for
display), and None when their denominator is 0.

* ``on_time_rate`` = completed_on_time ÷ completed
* ``immediate_share`` = immediate ÷ completed (即办件占比; target ≥ 70 %)
* ``compression_rate`` = promised_days ÷ legal_days (承诺时限压缩: lower is better)
* ``online_rate`` = online ÷ received (网上受理率)
* ``on_site_completion_rate`` = on_site ÷ completed (现场办结率)
* ``at_most_one_visit_share`` = at_most_one_visit ÷ received (“最多跑一次”占比;
  target ≥ 70 %)
* ``one_visit_matter_share`` = one_visit_matters ÷ matters (一趟不用跑 + 最多跑一趟
  事项占比; target over 80 %)
* ``zero_visit_conversion`` = zero_visit_matters ÷ one_visit_matters (转化为一趟不用跑;
  target ≥ 50 %)
* ``negative_rate`` = (DISSATISFIED + VERY_DISSATISFIED) ÷ ratings (差评率)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from levels.common.enums import LEVELS, Level
from levels.supervision.counts import Counts, OrgRow, StoreCounts
from levels.supervision.period import Period
from levels.supervision.staffing import (
    DepartmentStaff,
    StationAgents,
    departments_short_of_staff,
    stations_short_of_agents,
)
from levels.supervision.targets import (
    IMMEDIATE_SHARE,
    ONE_VISIT_MATTERS,
    ONE_VISIT_VOLUME,
    ZERO_VISIT_CONVERSION,
    Target,
)


def rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


@dataclass(frozen=True)
class Figures:
    counts: Counts

    @property
    def rated(self) -> int:
        c = self.counts
        return c.very_satisfied + c.satisfied + c.basic + c.dissatisfied + c.very_dissatisfied

    @property
    def negative(self) -> int:
        return self.counts.dissatisfied + self.counts.very_dissatisfied

    @property
    def on_time_rate(self) -> float | None:
        return rate(self.counts.completed_on_time, self.counts.completed)

    @property
    def immediate_share(self) -> float | None:
        return rate(self.counts.immediate, self.counts.completed)

    @property
    def immediate_target_met(self) -> bool | None:
        return IMMEDIATE_SHARE.met(self.immediate_share)

    @property
    def compression_rate(self) -> float | None:
        return rate(self.counts.promised_days, self.counts.legal_days)

    @property
    def online_rate(self) -> float | None:
        return rate(self.counts.online, self.counts.received)

    @property
    def on_site_completion_rate(self) -> float | None:
        return rate(self.counts.on_site, self.counts.completed)

    @property
    def at_most_one_visit_share(self) -> float | None:
        return rate(self.counts.at_most_one_visit, self.counts.received)

    @property
    def one_visit_matter_share(self) -> float | None:
        return rate(self.counts.one_visit_matters, self.counts.matters)

    @property
    def zero_visit_conversion(self) -> float | None:
        return rate(self.counts.zero_visit_matters, self.counts.one_visit_matters)

    @property
    def negative_rate(self) -> float | None:
        return rate(self.negative, self.rated)

    @property
    def targets(self) -> list[TargetCheck]:
        """Each target of the seeds against its figure (``levels.supervision.targets``)."""
        values = (
            (IMMEDIATE_SHARE, self.immediate_share),
            (ONE_VISIT_MATTERS, self.one_visit_matter_share),
            (ONE_VISIT_VOLUME, self.at_most_one_visit_share),
            (ZERO_VISIT_CONVERSION, self.zero_visit_conversion),
        )
        return [TargetCheck(target, value, target.met(value)) for target, value in values]


@dataclass(frozen=True)
class TargetCheck:
    target: Target
    value: float | None
    met: bool | None


@dataclass(frozen=True)
class OrgFigures:
    org: OrgRow
    figures: Figures


@dataclass(frozen=True)
class LevelFigures:
    level: Level
    figures: Figures


@dataclass(frozen=True)
class Report:
    division_code: str
    division_name: str
    period: Period
    totals: Figures
    by_level: list[LevelFigures]
    by_org: list[OrgFigures]
    unavailable: list[Level]
    generated_on: dt.date
    # below the staffing minimums (levels/supervision/staffing.py)
    stations_short_of_agents: list[StationAgents] = field(default_factory=list)
    departments_short_of_staff: list[DepartmentStaff] = field(default_factory=list)


def resolve_visits(stores: Iterable[StoreCounts], visits: dict[str, int]) -> None:
    """Count the cases whose item lived in another store, now that its ``max_visits``
    is known (an item found nowhere counts as not promising it)."""
    for store in stores:
        for p in store.pending:
            if visits.get(p.implementation_code, 2) <= 1:
                store.of(p.org_code).at_most_one_visit += p.cases


def combine(
    stores: Iterable[StoreCounts],
    *,
    division_code: str,
    division_name: str,
    period: Period,
    unavailable: Iterable[Level] = (),
    today: dt.date,
    agents: Mapping[str, int] | None = None,
) -> Report:
    """The report of ``stores``; ``agents`` (active agents per village code, from the
    identity store) lists the village stations short of agents, when given."""
    orgs: dict[str, OrgRow] = {}
    per_org: dict[str, Counts] = {}
    per_level: dict[Level, Counts] = {}
    total = Counts()
    stores = list(stores)
    stations = [o for store in stores for o in store.orgs if o.level is Level.VILLAGE]
    for store in stores:
        for org in store.orgs:
            orgs[org.code] = org
            per_org.setdefault(org.code, Counts())
            per_level.setdefault(org.level, Counts())
        for code, counts in store.by_org.items():
            orgs.setdefault(code, OrgRow(code, code, store.level, ""))
            per_org.setdefault(code, Counts()).add(counts)
            per_level.setdefault(store.level, Counts()).add(counts)
            total.add(counts)
    return Report(
        division_code=division_code,
        division_name=division_name,
        period=period,
        totals=Figures(total),
        by_level=[LevelFigures(lv, Figures(per_level[lv])) for lv in LEVELS if lv in per_level],
        by_org=[OrgFigures(orgs[code], Figures(per_org[code])) for code in sorted(per_org)],
        unavailable=[lv for lv in LEVELS if lv in set(unavailable)],
        generated_on=today,
        stations_short_of_agents=stations_short_of_agents(
            ((o.code, o.name, o.division_code) for o in stations), agents or {}
        )
        if agents is not None
        else [],
        departments_short_of_staff=departments_short_of_staff(
            row for store in stores for row in store.departments
        ),
    )
