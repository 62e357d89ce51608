"""The scenarios of the speed table (GovHub issue 17): each is one GraphQL request to the
hub, the raw endpoint of ``bench.raw`` that fetches the same rows with SQLAlchemy Core
and serialises them with orjson, the goal of hub p50 ÷ raw p50, and how the two answers
are checked to hold the same rows (once per scenario, before timing).

The list query (the county store's first 50 implementation items with their materials)
is also asked of PostGraphile; its GraphQL text is ``bench/peer/list-query.graphql``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import orjson
from sqlalchemy import Table, or_, select

from bench.scenarios import (
    ACCEPT,
    ACCEPT_QUERY,
    CASES_USER,
    DIVISION,
    MATTERS,
    MY_CASES_QUERY,
    PAGE,
    RECEPTIONIST,
    ROUTES,
    _fetch,
    demo_account_id,
    division_baseline,
    matters_baseline,
    routes_baseline,
)
from gateway.nodes import LevelNode, NodeRegistry
from levels.cases.enums import CaseStatus
from levels.cases.models import Case
from levels.common.enums import Level, MatterStatus
from levels.common.models import ImplementationMaterial, MatterImplementation

PEER_DIR = Path(__file__).resolve().parent / "peer"
LIST_QUERY_FILE = PEER_DIR / "list-query.graphql"
PEER_QUERY_FILE = PEER_DIR / "peer-query.graphql"

Same = Callable[[dict[str, Any], Any], str | None]
_case = cast(Table, Case.__table__)
_impl = MatterImplementation.__table__
_material = ImplementationMaterial.__table__


@dataclass(frozen=True)
class SpeedCase:
    key: str  # the raw endpoint's name, /raw/<key>
    name: str
    query: str
    variables: dict[str, Any]
    # hub data and raw JSON hold the same rows: None, or what differs
    same: Same
    # hub p50 ÷ raw p50 at most this (goal 1 of the issue)
    goal: float
    bearer: str | None = None
    # each request acts on a case of its own (acceptCase): count-bound, never repeated
    write: bool = False


def _listed(problem: str, hub: Any, raw: Any) -> str:
    return f"{problem}: hub {str(hub)[:300]} / raw {str(raw)[:300]}"


def _same_division(hub: dict[str, Any], raw: Any) -> str | None:
    a, b = (hub.get("division") or {}).get("name"), (raw.get("division") or {}).get("name")
    return None if a and a == b else _listed("division name differs", a, b)


def _same_matters(hub: dict[str, Any], raw: Any) -> str | None:
    conn = hub["matters"]
    a = [(e["node"]["basicCode"], e["node"]["name"]) for e in conn["edges"]]
    b = [(r["basic_code"], r["name"]) for r in raw["matters"]]
    if a != b or conn["pageInfo"]["hasNextPage"] != raw["hasNextPage"]:
        return _listed("matters page differs", a, b)
    return None


def _same_routes(hub: dict[str, Any], raw: Any) -> str | None:
    """Every route's item is one of the raw rows, with the same materials in order."""
    materials: dict[str, list[str]] = {}
    for m in raw["materials"]:
        materials.setdefault(m["implementation_code"], []).append(m["name"])
    codes = {i["code"] for i in raw["implementations"]}
    edges = hub["serviceRoutes"]["edges"]
    if not edges:
        return "no routes"
    for edge in edges:
        impl = edge["node"]["implementation"]
        code = impl["implementationCode"]
        if code not in codes:
            return f"route item {code} is not among the raw rows"
        if [m["name"] for m in impl["materials"]] != materials.get(code, []):
            return f"materials of {code} differ"
    return None


def _case_rows(hub: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["node"]["number"], e["node"]["status"]) for e in hub["cases"]["edges"]]


def _same_cases(hub: dict[str, Any], raw: Any) -> str | None:
    a = _case_rows(hub)
    b = [(str(r["number"]), str(r["status"])) for r in raw["cases"]]
    return None if a and a == b else _listed("cases differ", a, b)


def _same_accept(hub: dict[str, Any], raw: Any) -> str | None:
    """Both accepted a case of the same matter, submitted at the same moment: the same
    status, version and due day (each its own case: the numbers differ)."""
    case = (hub.get("acceptCase") or {}).get("case") or {}
    clock = case.get("clock") or {}
    a = (case.get("status"), case.get("version"), clock.get("dueOn"))
    b = (raw.get("status"), raw.get("version"), (raw.get("clock") or {}).get("dueOn"))
    if a[0] != CaseStatus.ACCEPTED.value or a != b:
        return _listed("acceptCase differs", case, raw)
    return None


def list_rows_of_hub(hub: dict[str, Any]) -> list[tuple[str, list[str]]]:
    return [
        (e["node"]["implementationCode"], [m["name"] for m in e["node"]["materials"]])
        for e in hub["matterImplementations"]["edges"]
    ]


def list_rows_of_peer(peer: dict[str, Any]) -> list[tuple[str, list[str]]]:
    return [
        (n["code"], [m["name"] for m in n["implementationMaterialsByImplementationCode"]["nodes"]])
        for n in peer["allMatterImplementations"]["nodes"]
    ]


def _same_list(hub: dict[str, Any], raw: Any) -> str | None:
    a = list_rows_of_hub(hub)
    by_code: dict[str, list[str]] = {}
    for m in raw["materials"]:
        by_code.setdefault(m["implementation_code"], []).append(m["name"])
    b = [(i["code"], by_code.get(i["code"], [])) for i in raw["implementations"]]
    return None if a and a == b else _listed("items differ", a[:3], b[:3])


# --- the auditor's cases ------------------------------------------------------------

AUDITOR = "jz.auditor"  # the city's auditor: every case of 晋中市, every store
AUDITOR_PREFIX = "1407"
AUDITOR_QUERY = """
query AuditorCases($first: Int) {
  cases(first: $first) {
    edges { node { number status matterName applicantName applicantIdMasked } }
  }
}
"""


async def _auditor_rows(node: LevelNode) -> list[dict[str, Any]]:
    stmt = (
        select(
            _case.c.number,
            _case.c.status,
            _case.c.matter_name,
            _case.c.division_code,
            _case.c.applicant_name,
            _case.c.applicant_id_masked,
        )
        .where(_case.c.division_code.startswith(AUDITOR_PREFIX))
        .where(_case.c.status != CaseStatus.REFERRED)
        .order_by(_case.c.number)
        .limit(PAGE + 1)
    )
    async with node.engine.connect() as conn:
        return await _fetch(conn, stmt)


async def auditor_baseline(nodes: NodeRegistry) -> bytes:
    per_level = await asyncio.gather(*(_auditor_rows(node) for node in nodes))
    rows = sorted((r for rows in per_level for r in rows), key=lambda r: str(r["number"]))
    return orjson.dumps({"cases": rows[:PAGE], "hasNextPage": len(rows) > PAGE})


async def _my_rows(node: LevelNode, account: str) -> list[dict[str, Any]]:
    stmt = (
        select(
            _case.c.number, _case.c.status, _case.c.matter_name, _case.c.yellow_on, _case.c.due_on
        )
        .where(or_(_case.c.applicant_id == account, _case.c.submitted_by == account))
        .where(_case.c.status != CaseStatus.REFERRED)
        .order_by(_case.c.number)
        .limit(PAGE + 1)
    )
    async with node.engine.connect() as conn:
        return await _fetch(conn, stmt)


async def my_cases_baseline(nodes: NodeRegistry) -> bytes:
    """The applicant's own cases and those they handed in, as the hub lists them (a
    referred case once, where it is now)."""
    account = await demo_account_id(nodes, CASES_USER)
    per_level = await asyncio.gather(*(_my_rows(node, account) for node in nodes))
    rows = sorted((r for rows in per_level for r in rows), key=lambda r: str(r["number"]))
    return orjson.dumps({"cases": rows[:PAGE], "hasNextPage": len(rows) > PAGE})


# --- the list query: the county store's first 50 items with their materials ----------

LIST_FIRST = 50
LIST_QUERY = LIST_QUERY_FILE.read_text(encoding="utf-8")


async def list_baseline(nodes: NodeRegistry) -> bytes:
    """Two statements on the county store: the page of items in the hub's order
    (division, basic code), then their materials in position order."""
    node = nodes[Level.COUNTY]
    async with node.engine.connect() as conn:
        impls = await _fetch(
            conn,
            select(_impl.c.code)
            .where(_impl.c.level == Level.COUNTY, _impl.c.status == MatterStatus.PUBLISHED)
            .order_by(_impl.c.division_code, _impl.c.basic_code)
            .limit(LIST_FIRST),
        )
        materials = await _fetch(
            conn,
            select(_material.c.implementation_code, _material.c.name)
            .where(_material.c.implementation_code.in_([i["code"] for i in impls]))
            .order_by(_material.c.implementation_code, _material.c.position),
        )
    return orjson.dumps({"implementations": impls, "materials": materials})


def peer_query() -> str:
    return PEER_QUERY_FILE.read_text(encoding="utf-8")


# --- the table's scenarios, and the raw endpoints behind them --------------------------

LIST = SpeedCase(
    "list", "county items with materials (list)", LIST_QUERY, {"first": LIST_FIRST}, _same_list, 3.0
)
SPEED_CASES: tuple[SpeedCase, ...] = (
    SpeedCase("division", DIVISION.name, DIVISION.query, DIVISION.variables, _same_division, 3.0),
    SpeedCase("matters", MATTERS.name, MATTERS.query, MATTERS.variables, _same_matters, 3.0),
    SpeedCase("routes", ROUTES.name, ROUTES.query, ROUTES.variables, _same_routes, 3.0),
    SpeedCase(
        "my-cases",
        f"my cases ({CASES_USER})",
        MY_CASES_QUERY,
        {"first": PAGE},
        _same_cases,
        3.0,
        bearer=CASES_USER,
    ),
    SpeedCase(
        "auditor-cases",
        f"auditor's cases ({AUDITOR})",
        AUDITOR_QUERY,
        {"first": PAGE},
        _same_cases,
        3.0,
        bearer=AUDITOR,
    ),
    LIST,
    SpeedCase(
        "accept",
        ACCEPT.name,
        ACCEPT_QUERY,
        {},
        _same_accept,
        1.5,
        bearer=RECEPTIONIST,
        write=True,
    ),
)

READS: dict[str, Callable[[NodeRegistry], Any]] = {
    "division": division_baseline,
    "matters": matters_baseline,
    "routes": routes_baseline,
    "my-cases": my_cases_baseline,
    "auditor-cases": auditor_baseline,
    "list": list_baseline,
}
