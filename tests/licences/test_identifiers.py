"""Licence identifiers: GB/T 36904 style, ISO 7064 MOD 37,36 check character."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from levels.common.errors import DomainError
from levels.licences.identifiers import make_licence_id, parse_licence_id

ISSUER = "12140702MB00000006"


def test_an_identifier_names_type_issuer_serial_version_and_a_check_character() -> None:
    value = make_licence_id("YYZZ", ISSUER, 1, 1)
    head, check = value.rsplit(".", 1)
    assert head == f"YYZZ.{ISSUER}.000001.1"
    assert len(check) == 1 and check.isalnum()
    parsed = parse_licence_id(value.lower())  # typed in lower case: still the same licence
    assert (parsed.value, parsed.type_code, parsed.issuer_org_code) == (value, "YYZZ", ISSUER)
    assert (parsed.serial, parsed.version) == (1, 1)


def test_a_new_version_has_another_identifier() -> None:
    assert make_licence_id("YYZZ", ISSUER, 7, 1) != make_licence_id("YYZZ", ISSUER, 7, 2)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "YYZZ",
        f"YYZZ.{ISSUER}.000001.1",  # no check character
        f"YYZZ.{ISSUER}.000000.1.0",  # serial 0
        "YYZZ.12140702MB0000000I.000001.1.0",  # I is not in a credit code
        f"yy-zz.{ISSUER}.000001.1.0",
    ],
)
def test_malformed_identifiers_are_refused(value: str) -> None:
    with pytest.raises(DomainError) as e:
        parse_licence_id(value)
    assert e.value.code.value == "INVALID_LICENCE_ID"


ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@given(
    serial=st.integers(min_value=1, max_value=999_999),
    version=st.integers(min_value=1, max_value=99),
    position=st.integers(min_value=0, max_value=200),
    replacement=st.sampled_from(ALPHABET),
)
def test_any_single_mistyped_character_is_caught(
    serial: int, version: int, position: int, replacement: str
) -> None:
    value = make_licence_id("SPJY", ISSUER, serial, version)
    places = [i for i, c in enumerate(value) if c != "."]
    i = places[position % len(places)]
    if value[i] == replacement:
        return
    typo = value[:i] + replacement + value[i + 1 :]
    try:
        parsed = parse_licence_id(typo)
    except DomainError:
        return
    # MOD 37,36 catches every single substitution: only a reformatting may pass
    assert parsed.value.replace(".", "") == value.replace(".", ""), typo
