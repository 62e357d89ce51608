"""Service routes: who decides, where a resident hands in, which way it travels."""

import datetime as dt

from levels.common.clock import CHINA
from levels.common.codes import make_implementation_code, make_uscc, parse_division
from levels.common.enums import HandlingKind, Level, MatterStatus, OnlineLevel, VillageServiceMode
from levels.common.models import MatterImplementation
from levels.common.routes import compute_routes
from levels.county.models import Delegation
from levels.county.service import DelegationView

VILLAGE = parse_division("140702101201")
TOWN, COUNTY = "140702101000", "140702000000"
NOW = dt.datetime(2026, 11, 20, 10, tzinfo=CHINA)
ORGS = {
    Level.CITY: make_uscc("12140700MB0000001"),
    Level.COUNTY: make_uscc("12140702MB0000002"),
    Level.TOWN: make_uscc("12140702MB0000003"),
    Level.VILLAGE: make_uscc("54140702MB0000004"),
}
DIVISIONS = {lv: d.code for lv, d in zip(Level, VILLAGE.chain, strict=True)}


def impl(level: Level, basic: str, **kw: object) -> MatterImplementation:
    values: dict[str, object] = dict(
        code=make_implementation_code(ORGS[level], level, basic),
        basic_code=basic,
        org_code=ORGS[level],
        division_code=DIVISIONS[level],
        level=level,
        handling_kind=HandlingKind.PROMISED,
        promised_time_limit_days=5,
        max_visits=1,
        online_level=OnlineLevel.ONLINE_PREVIEW,
        village_modes=[],
        receive_levels=[],
        preliminary_review=False,
        delegated_from=None,
        delegation_id=None,
        status=MatterStatus.PUBLISHED,
    )
    values.update(kw)
    return MatterImplementation(**values)


def delegation(
    id: str,
    *,
    all_towns: bool = True,
    towns: tuple[str, ...] = (),
    effective: dt.date = dt.date(2026, 1, 1),
    revoked: dt.datetime | None = None,
) -> DelegationView:
    row = Delegation(
        id=id,
        implementation_code="",
        basic_code="",
        from_org_code=ORGS[Level.COUNTY],
        from_division_code=COUNTY,
        all_towns=all_towns,
        legal_instrument="决定",
        effective_from=effective,
        revoked_at=revoked,
    )
    return DelegationView(row, towns)


def test_subsistence_allowance_goes_village_town_county_with_town_review() -> None:
    dibao = impl(
        Level.COUNTY,
        "000300100000",
        receive_levels=["TOWN", "VILLAGE"],
        preliminary_review=True,
        village_modes=["FULL_PROXY"],
    )
    (route,) = compute_routes(VILLAGE, [dibao], [], now=NOW)
    assert route.decider is dibao
    assert route.path == (VILLAGE.code, TOWN, COUNTY)
    assert route.preliminary_review_at == TOWN
    assert route.village_modes == (VillageServiceMode.FULL_PROXY,)


def test_a_route_may_skip_the_town() -> None:
    card = impl(
        Level.COUNTY,
        "000200100000",
        receive_levels=["VILLAGE"],
        village_modes=["ACCOMPANIED", "HOME_VISIT"],
    )
    (route,) = compute_routes(VILLAGE, [card], [], now=NOW)
    assert route.path == (VILLAGE.code, COUNTY)
    assert route.preliminary_review_at is None


def test_delegated_item_decides_at_the_town_while_in_force() -> None:
    county = impl(Level.COUNTY, "000100100000", receive_levels=["TOWN"])
    town = impl(
        Level.TOWN,
        "000100100000",
        delegated_from=county.code,
        delegation_id="G1",
        receive_levels=["VILLAGE"],
        village_modes=["FULL_PROXY"],
    )
    (route,) = compute_routes(VILLAGE, [county, town], [delegation("G1")], now=NOW)
    assert route.decider is town and route.delegation is not None
    assert route.path == (VILLAGE.code, TOWN)


def test_revoked_future_or_other_town_delegation_sends_cases_to_the_county() -> None:
    county = impl(Level.COUNTY, "000100100000", receive_levels=["TOWN"])
    town = impl(Level.TOWN, "000100100000", delegated_from=county.code, delegation_id="G1")
    for view in (
        delegation("G1", revoked=NOW - dt.timedelta(days=1)),
        delegation("G1", effective=dt.date(2027, 1, 1)),
        delegation("G1", all_towns=False, towns=("140702102000",)),
    ):
        (route,) = compute_routes(VILLAGE, [county, town], [view], now=NOW)
        assert route.decider is county and route.delegation is None
        assert route.path == (TOWN, COUNTY)
    # a revocation later than now has not happened yet
    (route,) = compute_routes(
        VILLAGE, [county, town], [delegation("G1", revoked=NOW + dt.timedelta(hours=1))], now=NOW
    )
    assert route.decider is town


def test_village_decides_its_immediate_matters_and_items_of_other_divisions_are_ignored() -> None:
    own = impl(
        Level.VILLAGE,
        "000400100000",
        handling_kind=HandlingKind.IMMEDIATE,
        promised_time_limit_days=0,
        village_modes=["IMMEDIATE"],
    )
    elsewhere = impl(Level.VILLAGE, "000400200000", division_code="140702101202")
    routes = compute_routes(VILLAGE, [own, elsewhere], [], now=NOW)
    assert [r.basic_code for r in routes] == ["000400100000"]
    assert routes[0].path == (VILLAGE.code,)
    assert routes[0].village_modes == (VillageServiceMode.IMMEDIATE,)


def test_a_town_resident_sees_no_village_modes() -> None:
    dibao = impl(
        Level.COUNTY,
        "000300100000",
        receive_levels=["TOWN", "VILLAGE"],
        village_modes=["FULL_PROXY"],
    )
    (route,) = compute_routes(parse_division(TOWN), [dibao], [], now=NOW)
    assert route.path == (TOWN, COUNTY)
    assert route.village_modes == ()
