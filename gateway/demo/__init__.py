"""The demo city loaded by ``govhub demo`` (DESIGN §7): Jinzhong 晋中市 (140700000000)
with its 11 county-level divisions, a few towns per county and a few villages per town,
their service orgs, departments and windows, the city's matter catalogue (all eight
matter types), implementation lists at every level, the counties' delegations to
their towns and the kinds of e-licence (电子证照) the items issue.

The data files live next to this package (``divisions.csv``, ``orgs.json``,
``matters.json``, ``implementations.json``, ``delegations.json``,
``licence_types.json``). Loading the plan is deterministic: no randomness, no clock, the
same rows every time. Each row goes to the node owning its division at its level (the
node map); the catalogue to the city node, delegations to their county's node, licence
types to every node; one transaction per node. The sample cases and licences follow (``cases.py``,
``proxy.py``, ``licences.py``): their steps are dated, but the orgs' signing keys and
the licences' signatures are new every time. The messages are carried last, so that the city's
licence library holds every licence and every use of one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlalchemy import func, insert, select

from gateway.demo.accounts import load_demo_accounts
from gateway.demo.cases import load_demo_cases
from gateway.demo.evaluations import load_demo_evaluations
from gateway.demo.items import add_delegations, add_implementation
from gateway.demo.languages import load_demo_languages
from gateway.demo.licences import load_demo_licences, relay_pending
from gateway.demo.plan import (
    CITY_CODE,
    TABLES,
    DemoDataError,
    DemoPlan,
    Row,
    add_licence_types,
    add_matters,
    add_orgs,
    load_divisions,
    read_json,
)
from gateway.demo.proxy import load_demo_proxy
from gateway.demo.registers import load_demo_registers
from gateway.demo.reports import load_demo_reports
from gateway.demo.windows import load_demo_windows
from gateway.nodes import LevelNode, NodeRegistry
from levels.common.enums import LEVELS, Level
from levels.common.models import (
    Department,
    Division,
    ImplementationMaterial,
    LevelBase,
    MatterImplementation,
    ServiceOrg,
    Window,
)
from levels.county.models import Delegation, DelegationTarget
from levels.licences.models import ELicence

__all__ = ["CITY_CODE", "DemoDataError", "DemoPlan", "build_demo", "is_loaded", "load_demo"]


def build_demo() -> DemoPlan:
    """All rows of the demo city, validated, without touching a store."""
    plan = DemoPlan()
    licence_types = add_licence_types(plan)
    divisions = load_divisions()
    for div, name in divisions:
        plan.add(
            div.level,
            Division,
            {
                "code": div.code,
                "name": name,
                "level": div.level,
                "parent_code": div.parent.code if div.parent else None,
            },
            key=div.code,
        )
    orgs = add_orgs(plan, divisions)
    matters = add_matters(plan)
    specs = read_json("implementations.json")
    impl_codes: dict[tuple[str, str], str] = {}
    for level in LEVELS:
        for spec in specs[level.value]:
            matter = matters[spec["matter"]]
            issues = spec.get("issuesLicence")
            if issues is not None and issues not in licence_types:
                raise DemoDataError(f"{spec['matter']}: unknown licence type {issues}")
            for div, _ in divisions:
                if div.level is level:
                    code = add_implementation(plan, matter, spec, div, orgs[div.code])
                    impl_codes[(div.code, matter["basicCode"])] = code
    county_specs = {s["matter"]: s for s in specs[Level.COUNTY.value]}
    add_delegations(plan, divisions, orgs, matters, county_specs, impl_codes)
    return plan


async def is_loaded(nodes: NodeRegistry) -> bool:
    """True when the demo city (its city division) is in the city store."""
    async with nodes.single(Level.CITY).sessions() as session:
        found = await session.scalar(select(Division.code).where(Division.code == CITY_CODE))
    return found is not None


def _division_of(model: type[LevelBase], row: Row, parents: dict[str, str]) -> str | None:
    """The division a demo row belongs to (None: reference data every node holds)."""
    if model is Division:
        return str(row["code"])
    if model in (ServiceOrg, MatterImplementation):
        return str(row["division_code"])
    if model in (Department, Window):
        return str(row["id"])[:12]
    if model is Delegation:
        return str(row["from_division_code"])
    if model is ImplementationMaterial:
        return parents[str(row["implementation_code"])]
    if model is DelegationTarget:
        return parents[str(row["delegation_id"])]
    return None


def by_node(nodes: NodeRegistry, plan: DemoPlan) -> dict[str, dict[type[LevelBase], list[Row]]]:
    """The plan's rows per node: each at the node keeping its level's rows about its
    division (the owner of the division's ancestor at that level: the rule the hub
    reads by and the message worker sends by, so each message starts from one node);
    rows of no division once to every node holding their level."""
    parents: dict[str, str] = {}
    for level in LEVELS:
        for row in plan.rows[level][MatterImplementation]:
            parents[str(row["code"])] = str(row["division_code"])
        for row in plan.rows[level][Delegation]:
            parents[str(row["id"])] = str(row["from_division_code"])
    out: dict[str, dict[type[LevelBase], list[Row]]] = {
        node.id: {model: [] for model in TABLES} for node in nodes
    }
    # a node holding several levels takes reference rows from the first of them
    shared: dict[tuple[str, type[LevelBase]], Level] = {}
    for level in LEVELS:
        for model in TABLES:
            for row in plan.rows[level][model]:
                division = _division_of(model, row, parents)
                if division is not None:
                    owner = nodes.owner_or_none(division, level)
                    if owner is None:
                        raise DemoDataError(f"no node owns {division} ({level.value})")
                    out[owner.id][model].append(row)
                    continue
                for node in nodes.holding(level):
                    if shared.setdefault((node.id, model), level) is level:
                        out[node.id][model].append(row)
    return out


async def _write(node: LevelNode, tables: dict[type[LevelBase], list[Row]]) -> None:
    async with node.sessions() as session, session.begin():
        for model in TABLES:
            if tables[model]:
                # ids of implementation_materials come from the store, in list order
                await session.execute(insert(model), tables[model])


async def load_demo(
    nodes: NodeRegistry,
    *,
    secret: bytes,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Load the demo city: one transaction per level store, one for its accounts in
    the identity store (``secret`` keys their protected ID numbers). Returns the number
    of rows per table (summed over the stores). Refuses to load twice. ``progress`` is
    told of each step once it is done (what was written)."""

    def done(what: str, counts: dict[str, int]) -> None:
        if progress is not None:
            shown = ", ".join(f"{k} {v}" for k, v in counts.items())
            progress(f"{what}: {shown}" if shown else what)

    if await is_loaded(nodes):
        raise RuntimeError("the demo city is already loaded")
    plan = build_demo()
    rows = by_node(nodes, plan)
    await asyncio.gather(*(_write(node, rows[node.id]) for node in nodes))
    done("divisions, orgs, matters and implementation lists", plan.counts())
    accounts = await load_demo_accounts(nodes.identity, secret=secret)
    done("accounts", accounts)
    cases = await load_demo_cases(nodes, secret=secret)
    done("cases", cases)
    proxy = await load_demo_proxy(nodes, secret=secret)
    done("proxy authorizations", proxy)
    licences = await load_demo_licences(nodes, secret=secret)
    done("e-licences", licences)
    # 信息共享: the residents' 户口簿, 结婚证, 出生医学证明, 不动产权证书 in the library
    registers = await load_demo_registers(nodes, secret=secret)
    done("register certificates", registers)
    windows = await load_demo_windows(nodes, secret=secret)
    done("windows and appointments", windows)
    # the city's licence library holds every licence, and every use of one
    await relay_pending(nodes, secret=secret)
    async with nodes.single(Level.CITY).sessions() as session:
        library = await session.scalar(select(func.count()).select_from(ELicence))
    done("cross-level messages relayed", {"licences in the city library": library or 0})
    # 好差评 and 投诉 of the cases with a result, last: they rate what happened above
    evaluations = await load_demo_evaluations(nodes)
    done("evaluations and complaints", evaluations)
    counts = {
        **plan.counts(),
        **accounts,
        **cases,
        **proxy,
        **licences,
        **registers,
        **windows,
        **evaluations,
    }
    reports = await load_demo_reports(nodes)
    desk = await load_demo_languages(nodes)
    counts.update(reports)
    counts["window_setups"] = counts.get("window_setups", 0) + desk["window_setups"]
    return {**counts, "licences": library or 0}
