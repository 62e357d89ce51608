"""The demo city loader (``govhub demo``): shape, rules and determinism of its data."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from gateway.demo import is_loaded, load_demo
from gateway.demo.plan import TABLES
from gateway.nodes import NodeRegistry
from levels.city.models import Matter
from levels.common.catalogue import PROMISED_SHARE_LIMIT
from levels.common.codes import parse_division, parse_implementation_code, validate_uscc
from levels.common.enums import LEVELS, HandlingKind, Level, MatterStatus, MatterType
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
from tests.conftest import BACKEND, make_registry
from tests.support import pg

ALL_TABLES = TABLES
SECRET = b"govhub-test-secret"


@asynccontextmanager
async def fresh_stores(tmp: Path) -> AsyncIterator[NodeRegistry]:
    """Empty, migrated stores on the session's backend (SQLite files by default)."""
    if BACKEND == "postgres":
        await pg.require_services()
    _settings, nodes, created = await make_registry(tmp, "demo" + uuid.uuid4().hex[:8])
    try:
        yield nodes
    finally:
        await nodes.dispose()
        for name in created:
            await pg.drop_database(name)


async def _all(nodes: NodeRegistry, level: Level, model: type[LevelBase]) -> list[Any]:
    async with nodes[level].sessions() as session:
        return list((await session.scalars(select(model))).all())


async def _rows(nodes: NodeRegistry, level: Level, model: type[LevelBase]) -> list[tuple[Any, ...]]:
    async with nodes[level].sessions() as session:
        result = await session.execute(select(model.__table__))
        return sorted(tuple(repr(v) for v in row) for row in result.all())


@pytest.fixture(scope="module")
async def demo(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[dict[str, Any]]:
    async with fresh_stores(tmp_path_factory.mktemp("demo-loader")) as nodes:
        before = await is_loaded(nodes)
        counts = await load_demo(nodes, secret=SECRET)
        yield {"nodes": nodes, "before": before, "counts": counts}


async def test_is_loaded_before_and_after(demo: dict[str, Any]) -> None:
    assert demo["before"] is False
    assert await is_loaded(demo["nodes"]) is True
    # the CLI checks is_loaded and never loads twice; the loader refuses to
    with pytest.raises(RuntimeError):
        await load_demo(demo["nodes"], secret=SECRET)


async def test_counts_match_the_stores(demo: dict[str, Any]) -> None:
    nodes, counts = demo["nodes"], demo["counts"]
    for model in ALL_TABLES:
        stored = sum([len(await _all(nodes, level, model)) for level in LEVELS])
        assert counts[model.__tablename__] == stored, model.__tablename__
    assert counts["matters"] >= 32
    assert counts["delegations"] >= 11
    # thirteen kinds of e-licence in every store; in the city's library, seven licences
    # of cases and four of registers (户口簿, 结婚证, 出生医学证明, 不动产权证书) for each
    # of the four residents
    assert counts["licence_types"] == 13 * len(LEVELS)
    assert counts["register_licences"] == 16
    assert counts["licences"] == 7 + 16
    # a demo, not a data set: a few thousand rows
    assert sum(counts.values()) < 10_000


async def test_divisions_form_the_city_tree(demo: dict[str, Any]) -> None:
    nodes = demo["nodes"]
    by_level = {level: await _all(nodes, level, Division) for level in LEVELS}
    for level, divisions in by_level.items():
        for d in divisions:
            code = parse_division(d.code)
            assert code.level is level is d.level
            assert d.parent_code == (code.parent.code if code.parent else None)
    assert [d.code for d in by_level[Level.CITY]] == ["140700000000"]
    counties = {d.code for d in by_level[Level.COUNTY]}
    assert len(counties) == 11 and {"140702000000", "140781000000"} <= counties
    towns_per_county = Counter(d.parent_code for d in by_level[Level.TOWN])
    assert set(towns_per_county) == counties and min(towns_per_county.values()) >= 2
    villages_per_town = Counter(d.parent_code for d in by_level[Level.VILLAGE])
    assert set(villages_per_town) == {d.code for d in by_level[Level.TOWN]}
    assert min(villages_per_town.values()) >= 3
    assert len(by_level[Level.VILLAGE]) >= 70


async def test_one_valid_org_per_division_with_departments_and_windows(
    demo: dict[str, Any],
) -> None:
    nodes = demo["nodes"]
    all_codes: list[str] = []
    for level in LEVELS:
        divisions = {d.code for d in await _all(nodes, level, Division)}
        orgs = await _all(nodes, level, ServiceOrg)
        assert sorted(o.division_code for o in orgs) == sorted(divisions)
        assert all(o.level is level and o.kind in nodes[level].policy.org_kinds for o in orgs)
        for o in orgs:
            assert validate_uscc(o.code) == o.code
            assert o.phone.startswith("0354-") and o.address and o.opening_hours
        all_codes += [o.code for o in orgs]
        departments = await _all(nodes, level, Department)
        dept_org = {d.id: d.org_code for d in departments}
        org_of_division = {o.division_code: o.code for o in orgs}
        for d in departments:
            assert d.id[12] == "D" and org_of_division[d.id[:12]] == d.org_code
        windows = await _all(nodes, level, Window)
        assert {w.org_code for w in windows} == set(org_of_division.values())
        for w in windows:
            assert w.id[12] == "W" and org_of_division[w.id[:12]] == w.org_code
            assert all(dept_org[i] == w.org_code for i in w.department_ids)
    assert len(all_codes) == len(set(all_codes))


async def test_catalogue_covers_every_matter_type(demo: dict[str, Any]) -> None:
    nodes = demo["nodes"]
    matters = await _all(nodes, Level.CITY, Matter)
    assert len(matters) >= 32
    types = Counter(m.type for m in matters)
    assert set(types) == set(MatterType) and min(types.values()) >= 2
    names = {m.name for m in matters}
    for required in (
        "最低生活保障审批",
        "农机购置补贴",
        "残疾人证核发",
        "个体工商户登记",
        "食品经营许可",
        "农村宅基地建房审批",
        "特困人员救助供养",
        "临时救助",
        "城乡居民养老保险参保登记",
        "高龄津贴发放",
        "生育登记",
        "营业执照变更",
        "建设工程规划许可",
        "药品零售许可",
        "见义勇为奖励",
        "户口迁移",
    ):
        assert required in names
    for m in matters:
        assert len(m.basic_code) == 12 and m.legal_basis.startswith("《")
        assert m.status is MatterStatus.PUBLISHED and m.published_batch == "2026-06"
    for level in (Level.COUNTY, Level.TOWN, Level.VILLAGE):
        assert await _all(nodes, level, Matter) == []


async def test_implementations_at_every_level_follow_the_rules(demo: dict[str, Any]) -> None:
    nodes = demo["nodes"]
    legal = {m.basic_code: m.legal_time_limit_days for m in await _all(nodes, Level.CITY, Matter)}
    exceptions = 0
    for level in LEVELS:
        impls = await _all(nodes, level, MatterImplementation)
        assert impls, level
        orgs = {o.code: o.division_code for o in await _all(nodes, level, ServiceOrg)}
        departments = {d.id: d.org_code for d in await _all(nodes, level, Department)}
        materials = defaultdict(list)
        for m in await _all(nodes, level, ImplementationMaterial):
            materials[m.implementation_code].append(m)
        for impl in impls:
            parsed = parse_implementation_code(impl.code)
            assert parsed.level is level is impl.level
            assert parsed.org_code == impl.org_code and parsed.basic_code == impl.basic_code
            assert orgs[impl.org_code] == impl.division_code
            assert departments[impl.department_id] == impl.org_code
            limit = legal[impl.basic_code]
            if impl.promised_time_limit_days > limit * PROMISED_SHARE_LIMIT:
                assert impl.promise_exception_reason
                exceptions += 1
            if impl.handling_kind is HandlingKind.IMMEDIATE:
                assert impl.promised_time_limit_days == 0
            assert all(Level(r).depth > level.depth for r in impl.receive_levels)
            assert 2 <= len(materials[impl.code]) <= 5
        if level is Level.VILLAGE:
            assert {i.handling_kind for i in impls} == {HandlingKind.IMMEDIATE}
        # every division of the level implements something
        assert {i.division_code for i in impls} == set(orgs.values())
    assert exceptions >= 1


async def test_delegations_reach_their_towns(demo: dict[str, Any]) -> None:
    nodes = demo["nodes"]
    delegations = await _all(nodes, Level.COUNTY, Delegation)
    targets = await _all(nodes, Level.COUNTY, DelegationTarget)
    county_impls = {i.code: i for i in await _all(nodes, Level.COUNTY, MatterImplementation)}
    town_impls = await _all(nodes, Level.TOWN, MatterImplementation)
    towns = defaultdict(set)
    for d in await _all(nodes, Level.TOWN, Division):
        towns[d.parent_code].add(d.code)
    listed = defaultdict(set)
    for t in targets:
        listed[t.delegation_id].add(t.town_code)
    counties = {d.code for d in await _all(nodes, Level.COUNTY, Division)}
    assert {d.from_division_code for d in delegations if d.all_towns} == counties
    assert any(not d.all_towns for d in delegations) and listed
    assert sum(d.revoked_at is not None for d in delegations) >= 1
    assert any(d.effective_from.year >= 2027 for d in delegations)
    for d in delegations:
        assert d.id.startswith(d.from_division_code + "-G") and len(d.id) == 18
        assert county_impls[d.implementation_code].basic_code == d.basic_code
        expected = towns[d.from_division_code] if d.all_towns else listed[d.id]
        assert expected and expected <= towns[d.from_division_code]
        delegated = [i for i in town_impls if i.delegation_id == d.id]
        assert {i.division_code for i in delegated} == expected
        assert all(i.delegated_from == d.implementation_code for i in delegated)
        assert all(i.basic_code == d.basic_code for i in delegated)


async def test_loading_is_deterministic(demo: dict[str, Any], tmp_path: Path) -> None:
    async with fresh_stores(tmp_path) as other:
        assert await load_demo(other, secret=SECRET) == demo["counts"]
        for level in LEVELS:
            for model in ALL_TABLES:
                assert await _rows(other, level, model) == await _rows(demo["nodes"], level, model)
