"""Rules of an implementation item: promised limits, levels, visits."""

import pytest

from levels.common.catalogue import ImplementationDraft, check_implementation
from levels.common.codes import make_uscc
from levels.common.enums import HandlingKind, Level
from levels.common.errors import DomainError, ErrorCode
from levels.county.policy import COUNTY_POLICY
from levels.town.policy import TOWN_POLICY
from levels.village.policy import VILLAGE_POLICY

ORG = make_uscc("12140702MB0000001")


def draft(**changes: object) -> ImplementationDraft:
    base: dict[str, object] = dict(
        org_code=ORG,
        level=Level.COUNTY,
        basic_code="000105001000",
        handling_kind=HandlingKind.PROMISED,
        promised_time_limit_days=10,
        promise_exception_reason=None,
        max_visits=1,
    )
    base.update(changes)
    return ImplementationDraft(**base)  # type: ignore[arg-type]


def test_promised_limit_up_to_half_the_legal_limit_is_accepted() -> None:
    code = check_implementation(draft(), policy=COUNTY_POLICY, legal_time_limit_days=20)
    assert code == f"{ORG}2000105001000"


def test_promised_limit_over_half_needs_an_exception_reason() -> None:
    with pytest.raises(DomainError) as err:
        check_implementation(
            draft(promised_time_limit_days=11), policy=COUNTY_POLICY, legal_time_limit_days=20
        )
    assert err.value.code is ErrorCode.PROMISED_LIMIT_TOO_LONG
    assert err.value.field == ["promisedTimeLimitDays"]
    ok = draft(promised_time_limit_days=11, promise_exception_reason="须经专家论证")
    assert check_implementation(ok, policy=COUNTY_POLICY, legal_time_limit_days=20)


def test_village_stations_implement_only_immediate_matters() -> None:
    village = draft(level=Level.VILLAGE, handling_kind=HandlingKind.PROMISED)
    with pytest.raises(DomainError) as err:
        check_implementation(village, policy=VILLAGE_POLICY, legal_time_limit_days=20)
    assert err.value.field == ["handlingKind"]
    immediate = draft(
        level=Level.VILLAGE, handling_kind=HandlingKind.IMMEDIATE, promised_time_limit_days=0
    )
    assert check_implementation(immediate, policy=VILLAGE_POLICY, legal_time_limit_days=20)


def test_only_towns_take_delegated_items() -> None:
    county_item = check_implementation(draft(), policy=COUNTY_POLICY, legal_time_limit_days=20)
    with pytest.raises(DomainError) as err:
        check_implementation(
            draft(delegated_from=county_item), policy=COUNTY_POLICY, legal_time_limit_days=20
        )
    assert err.value.code is ErrorCode.LEVEL_MISMATCH
    town = draft(level=Level.TOWN, delegated_from=county_item)
    assert check_implementation(town, policy=TOWN_POLICY, legal_time_limit_days=20)


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"org_code": "91140702MA0000000X"}, ErrorCode.INVALID_ORG_CODE, "orgCode"),
        ({"basic_code": "short"}, ErrorCode.INVALID_BASIC_CODE, "basicCode"),
        ({"promised_time_limit_days": -1}, ErrorCode.INVALID_TIME_LIMIT, "promisedTimeLimitDays"),
        (
            {"handling_kind": HandlingKind.IMMEDIATE},
            ErrorCode.INVALID_TIME_LIMIT,
            "promisedTimeLimitDays",
        ),
        ({"max_visits": -1}, ErrorCode.INVALID_MAX_VISITS, "maxVisits"),
        ({"level": Level.TOWN}, ErrorCode.LEVEL_MISMATCH, "level"),
    ],
)
def test_each_rejection_names_its_field(
    changes: dict[str, object], code: ErrorCode, field: str
) -> None:
    with pytest.raises(DomainError) as err:
        check_implementation(draft(**changes), policy=COUNTY_POLICY, legal_time_limit_days=20)
    assert err.value.code is code
    assert err.value.field == [field]
