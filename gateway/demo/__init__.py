"""The demo city loaded by ``govhub demo`` (DESIGN §7): Jinzhong 晋中市 (140700000000)
with its 11 county-level divisions, a few towns per county and a few villages per town,
their service orgs, departments and windows, the city's matter catalogue (all eight
matter types), implementation lists at every level and the counties' delegations to
their towns.

The data files live next to this package (``divisions.csv``, ``orgs.json``,
``matters.json``, ``implementations.json``, ``delegations.json``). Loading is
deterministic: no randomness, no clock, the same rows every time. Each row goes to the
store of its own level; the catalogue to the city store, delegations to the county
store; one transaction per store."""

from __future__ import annotations

import asyncio

from sqlalchemy import insert, select

from gateway.demo.accounts import load_demo_accounts
from gateway.demo.cases import load_demo_cases
from gateway.demo.items import add_delegations, add_implementation
from gateway.demo.plan import (
    CITY_CODE,
    TABLES,
    DemoDataError,
    DemoPlan,
    Row,
    add_matters,
    add_orgs,
    load_divisions,
    read_json,
)
from gateway.demo.proxy import load_demo_proxy
from gateway.nodes import LevelNode, NodeRegistry
from levels.common.enums import LEVELS, Level
from levels.common.models import Division, LevelBase

__all__ = ["CITY_CODE", "DemoDataError", "DemoPlan", "build_demo", "is_loaded", "load_demo"]


def build_demo() -> DemoPlan:
    """All rows of the demo city, validated, without touching a store."""
    plan = DemoPlan()
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
            for div, _ in divisions:
                if div.level is level:
                    code = add_implementation(plan, matter, spec, div, orgs[div.code])
                    impl_codes[(div.code, matter["basicCode"])] = code
    county_specs = {s["matter"]: s for s in specs[Level.COUNTY.value]}
    add_delegations(plan, divisions, orgs, matters, county_specs, impl_codes)
    return plan


async def is_loaded(nodes: NodeRegistry) -> bool:
    """True when the demo city (its city division) is in the city store."""
    async with nodes[Level.CITY].sessions() as session:
        found = await session.scalar(select(Division.code).where(Division.code == CITY_CODE))
    return found is not None


async def _write(node: LevelNode, tables: dict[type[LevelBase], list[Row]]) -> None:
    async with node.sessions() as session, session.begin():
        for model in TABLES:
            if tables[model]:
                # ids of implementation_materials come from the store, in list order
                await session.execute(insert(model), tables[model])


async def load_demo(nodes: NodeRegistry, *, secret: bytes) -> dict[str, int]:
    """Load the demo city: one transaction per level store, one for its accounts in
    the identity store (``secret`` keys their protected ID numbers). Returns the number
    of rows per table (summed over the stores). Refuses to load twice."""
    if await is_loaded(nodes):
        raise RuntimeError("the demo city is already loaded")
    plan = build_demo()
    await asyncio.gather(*(_write(nodes[level], plan.rows[level]) for level in LEVELS))
    accounts = await load_demo_accounts(nodes.identity, secret=secret)
    cases = await load_demo_cases(nodes)
    proxy = await load_demo_proxy(nodes)
    return {**plan.counts(), **accounts, **cases, **proxy}
