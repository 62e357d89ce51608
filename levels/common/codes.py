"""Codes that route and identify: 12-digit division codes, unified social credit codes,
matter basic codes and implementation codes. Validation happens here, at the boundary;
everything past it may trust a parsed code."""

from __future__ import annotations

import re
from dataclasses import dataclass

from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import ValidationError

from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode

_BASIC_CODE = re.compile(r"^[0-9A-Z]{12}$")

# where a bad value came from in the input: "code" or ("filter", "divisionCode")
Field = str | tuple[str, ...]


def field_path(field: Field) -> list[str]:
    return [field] if isinstance(field, str) else list(field)


@dataclass(frozen=True, slots=True)
class DivisionCode:
    """A parsed 统计用区划代码: province 2 + city 2 + county 2 + town 3 + village 3."""

    code: str
    level: Level

    @property
    def parent(self) -> DivisionCode | None:
        c = self.code
        if self.level is Level.CITY:
            return None
        if self.level is Level.COUNTY:
            return DivisionCode(c[:4] + "0" * 8, Level.CITY)
        if self.level is Level.TOWN:
            return DivisionCode(c[:6] + "0" * 6, Level.COUNTY)
        return DivisionCode(c[:9] + "000", Level.TOWN)

    @property
    def chain(self) -> list[DivisionCode]:
        """This division and its ancestors, top (city) first."""
        out: list[DivisionCode] = [self]
        while (p := out[-1].parent) is not None:
            out.append(p)
        return out[::-1]

    def at(self, level: Level) -> DivisionCode | None:
        """This division or its ancestor at ``level``; None when ``level`` is below it."""
        division: DivisionCode | None = self
        while division is not None and division.level is not level:
            division = division.parent
        return division

    @property
    def prefix(self) -> str:
        """The significant prefix: every division below this one starts with it."""
        return self.code[
            : {Level.CITY: 4, Level.COUNTY: 6, Level.TOWN: 9, Level.VILLAGE: 12}[self.level]
        ]

    def contains(self, other: DivisionCode) -> bool:
        return other.code.startswith(self.prefix)

    def __str__(self) -> str:
        return self.code


def level_of_division(code: str) -> Level | None:
    """The level a well-formed code denotes, or None when it denotes none of ours."""
    if len(code) != 12 or not code.isascii() or not code.isdigit():
        return None
    prov, city, county, town, village = code[:2], code[2:4], code[4:6], code[6:9], code[9:]
    if prov == "00" or city == "00":
        return None
    if county == "00":
        return Level.CITY if town == "000" and village == "000" else None
    if town == "000":
        return Level.COUNTY if village == "000" else None
    if village == "000":
        return Level.TOWN
    return Level.VILLAGE


def parse_division(code: str, *, field: Field = "divisionCode") -> DivisionCode:
    level = level_of_division(code.strip() if isinstance(code, str) else "")
    if level is None:
        raise DomainError(
            ErrorCode.INVALID_DIVISION_CODE, field=field_path(field), detail=str(code)[:32]
        )
    return DivisionCode(code.strip(), level)


def validate_uscc(code: str, *, field: Field = "orgCode") -> str:
    """Validate an 18-character unified social credit code (GB 32100) with python-stdnum."""
    try:
        return str(stdnum_uscc.validate(code))
    except (ValidationError, TypeError):
        raise DomainError(
            ErrorCode.INVALID_ORG_CODE, field=field_path(field), detail=str(code)[:32]
        ) from None


def make_uscc(stem17: str) -> str:
    """Complete the first 17 characters of a credit code with its check character."""
    return stem17 + stdnum_uscc.calc_check_digit(stem17)


def validate_basic_code(code: str, *, field: Field = "basicCode") -> str:
    if not isinstance(code, str) or not _BASIC_CODE.match(code):
        raise DomainError(
            ErrorCode.INVALID_BASIC_CODE, field=field_path(field), detail=str(code)[:32]
        )
    return code


def make_implementation_code(org_uscc: str, level: Level, basic_code: str) -> str:
    """实施编码: the implementing body's credit code + level digit + the basic code.
    Stable (derived only from who implements what at which level) and unique (a body
    implements a catalogue item once)."""
    return f"{org_uscc}{level.digit}{basic_code}"


@dataclass(frozen=True, slots=True)
class ImplementationCode:
    code: str
    org_code: str
    level: Level
    basic_code: str


def parse_implementation_code(
    code: str, *, field: Field = "implementationCode"
) -> ImplementationCode:
    if not isinstance(code, str) or len(code) != 31:
        raise DomainError(
            ErrorCode.INVALID_IMPLEMENTATION_CODE, field=field_path(field), detail=str(code)[:40]
        )
    org, digit, basic = code[:18], code[18], code[19:]
    if not stdnum_uscc.is_valid(org) or digit not in "1234" or not _BASIC_CODE.match(basic):
        raise DomainError(
            ErrorCode.INVALID_IMPLEMENTATION_CODE, field=field_path(field), detail=code
        )
    return ImplementationCode(code, org, Level.from_digit(digit), basic)


def key_range(prefix: str) -> tuple[str, str | None]:
    """The half-open key range of every code starting with ``prefix``: ``key >= lo AND
    key < hi`` (hi None: no upper bound). An indexed range, where ``LIKE prefix%`` may
    scan: ``"140702"`` → ``("140702", "140703")``; ``"1409"`` → ``("1409", "141")``."""
    digits = prefix.rstrip("9")
    if not digits:
        return prefix, None
    upper = digits[:-1] + chr(ord(digits[-1]) + 1)
    return prefix, upper
