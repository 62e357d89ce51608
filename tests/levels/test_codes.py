"""Division, credit and implementation codes are validated at the boundary."""

import pytest

from levels.common.codes import (
    level_of_division,
    make_implementation_code,
    make_uscc,
    parse_division,
    parse_implementation_code,
    validate_basic_code,
    validate_uscc,
)
from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("140700000000", Level.CITY),
        ("140702000000", Level.COUNTY),
        ("140702101000", Level.TOWN),
        ("140702101201", Level.VILLAGE),
    ],
)
def test_level_follows_from_the_code(code: str, level: Level) -> None:
    assert parse_division(code).level is level


@pytest.mark.parametrize(
    "code",
    [
        "",
        "14070200000",  # 11 digits
        "1407020000000",  # 13 digits
        "14070200000x",
        "140000000000",  # a province: not one of our levels
        "000700000000",
        "140700000201",  # a village under no county or town
        "140702000201",  # a village under no town
        "140700101000",  # a town under no county
        "１４０７０２０００００００",  # full-width digits
    ],
)
def test_malformed_division_codes_are_typed_errors(code: str) -> None:
    with pytest.raises(DomainError) as err:
        parse_division(code)
    assert err.value.code is ErrorCode.INVALID_DIVISION_CODE
    assert err.value.field == ["divisionCode"]


def test_parent_chain_runs_up_to_the_city() -> None:
    village = parse_division("140702101201")
    assert [d.code for d in village.chain] == [
        "140700000000",
        "140702000000",
        "140702101000",
        "140702101201",
    ]
    assert parse_division("140700000000").parent is None
    assert parse_division("140702000000").contains(village)
    assert not parse_division("140703000000").contains(village)


def test_level_of_division_never_raises() -> None:
    assert level_of_division("abc") is None
    assert level_of_division("1" * 40) is None


def test_credit_codes_are_checked_with_their_check_character() -> None:
    code = make_uscc("12140702MB1234567")
    assert validate_uscc(code) == code
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    with pytest.raises(DomainError) as err:
        validate_uscc(wrong)
    assert err.value.code is ErrorCode.INVALID_ORG_CODE


def test_implementation_codes_round_trip_and_carry_the_level() -> None:
    org = make_uscc("12140702MB1234567")
    code = make_implementation_code(org, Level.TOWN, "000105001000")
    parsed = parse_implementation_code(code)
    assert (parsed.org_code, parsed.level, parsed.basic_code) == (org, Level.TOWN, "000105001000")
    for bad in (code[:-1], code[:18] + "9" + code[19:], "x" * 31):
        with pytest.raises(DomainError) as err:
            parse_implementation_code(bad)
        assert err.value.code is ErrorCode.INVALID_IMPLEMENTATION_CODE


@pytest.mark.parametrize("bad", ["", "00010500100", "00010500100a", "000105001000X"])
def test_basic_codes_are_twelve_letters_or_digits(bad: str) -> None:
    with pytest.raises(DomainError) as err:
        validate_basic_code(bad)
    assert err.value.code is ErrorCode.INVALID_BASIC_CODE
