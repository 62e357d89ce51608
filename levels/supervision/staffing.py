"""Staffing minimums in the supervision report (``levels/supervision/targets.py``):

* village stations with fewer than 2 agents (seed 003 "各村（社区）至少明确2名代办员"):
  the active AGENT accounts of the village, counted in the identity store, against
  the stations (village-level orgs) of the division;
* departments of a city or county centre with fewer than 2 staff on their windows
  (seed 000 "各个部门原则上不得少于2人"): the distinct people named on the A and B
  posts (AB角) of the department's own windows (kind DEPARTMENT). A department with no
  window of its own is served at the comprehensive windows (前台综合受理, which the
  seed allows with the centre's consent) and is not listed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.common.enums import Level, WindowKind
from levels.common.models import Department, ServiceOrg, Window
from levels.common.ranges import within
from levels.supervision.targets import MIN_DEPARTMENT_WINDOW_STAFF, MIN_VILLAGE_AGENTS
from levels.windows.models import WindowSetup

# the levels whose centres the seed's window-staff minimum is about (市、县两级)
CENTRE_LEVELS = (Level.CITY, Level.COUNTY)


@dataclass(frozen=True)
class DepartmentStaff:
    org_code: str
    org_name: str
    department_id: str
    department_name: str
    staff: int
    minimum: int = MIN_DEPARTMENT_WINDOW_STAFF


@dataclass(frozen=True)
class StationAgents:
    org_code: str
    org_name: str
    division_code: str
    agents: int
    minimum: int = MIN_VILLAGE_AGENTS


async def department_window_staff(prefix: str, *, session: AsyncSession) -> list[DepartmentStaff]:
    """Every department of a city or county org of ``session``'s store under ``prefix``
    that has a department window, with the distinct staff on those windows' posts.
    Two statements."""
    in_scope = (
        within(ServiceOrg.division_code, prefix),
        ServiceOrg.level.in_(CENTRE_LEVELS),
    )
    departments = (
        await session.execute(
            select(Department.id, Department.name, Department.org_code, ServiceOrg.name)
            .join(ServiceOrg, ServiceOrg.code == Department.org_code)
            .where(*in_scope)
            .order_by(Department.org_code, Department.id)
        )
    ).all()
    windows = await session.execute(
        select(Window.department_ids, WindowSetup.a_staff_id, WindowSetup.b_staff_id)
        .join(ServiceOrg, ServiceOrg.code == Window.org_code)
        .outerjoin(WindowSetup, WindowSetup.window_id == Window.id)
        .where(*in_scope, Window.kind == WindowKind.DEPARTMENT)
    )
    staff: dict[str, set[str]] = defaultdict(set)
    for department_ids, a, b in windows.all():
        for department in department_ids or []:
            staff[department].update(p for p in (a, b) if p)
    return [
        DepartmentStaff(org, org_name, dept, name, len(staff[dept]))
        for dept, name, org, org_name in departments
        if dept in staff
    ]


def departments_short_of_staff(rows: Iterable[DepartmentStaff]) -> list[DepartmentStaff]:
    return [r for r in rows if r.staff < r.minimum]


def stations_short_of_agents(
    stations: Iterable[tuple[str, str, str]], agents: Mapping[str, int]
) -> list[StationAgents]:
    """The stations ``(org code, name, village code)`` whose village has fewer active
    agents than the minimum, by org code."""
    rows = [
        StationAgents(code, name, village, agents.get(village, 0))
        for code, name, village in stations
    ]
    return sorted((r for r in rows if r.agents < r.minimum), key=lambda r: r.org_code)
