"""Licence identifiers in the GB/T 36904 style:
``<type code>.<issuer USCC>.<serial>.<version>.<check character>``, e.g.
``YYZZ.11140702MB0000012X.000001.1.7``. The check character is ISO/IEC 7064
MOD 37,36 (python-stdnum) over the other parts without the dots, so a mistyped
identifier is caught before any store is asked."""

from __future__ import annotations

import re
from dataclasses import dataclass

from stdnum.exceptions import ValidationError
from stdnum.iso7064 import mod_37_36

from levels.common.codes import Field, field_path
from levels.common.errors import DomainError
from levels.licences.errors import LicenceErrorCode

_ID = re.compile(r"^([A-Z0-9]{2,16})\.([0-9A-HJ-NPQRTUWXY]{18})\.(\d{6,})\.(\d{1,4})\.([0-9A-Z])$")


@dataclass(frozen=True, slots=True)
class LicenceId:
    value: str
    type_code: str
    issuer_org_code: str
    serial: int
    version: int

    def __str__(self) -> str:
        return self.value


def _body(type_code: str, issuer: str, serial: int, version: int) -> str:
    return f"{type_code}{issuer}{serial:06d}{version}"


def make_licence_id(type_code: str, issuer: str, serial: int, version: int) -> str:
    check = mod_37_36.calc_check_digit(_body(type_code, issuer, serial, version))
    return f"{type_code}.{issuer}.{serial:06d}.{version}.{check}"


def parse_licence_id(value: str, *, field: Field = "id") -> LicenceId:
    text = value.strip().upper() if isinstance(value, str) else ""
    match = _ID.match(text)
    if match is None:
        raise DomainError(LicenceErrorCode.INVALID_LICENCE_ID, field=field_path(field))
    type_code, issuer, serial, version, _ = match.groups()
    try:
        mod_37_36.validate(text.replace(".", ""))
    except ValidationError:
        raise DomainError(LicenceErrorCode.INVALID_LICENCE_ID, field=field_path(field)) from None
    if int(version) == 0 or int(serial) == 0:
        raise DomainError(LicenceErrorCode.INVALID_LICENCE_ID, field=field_path(field))
    return LicenceId(text, type_code, issuer, int(serial), int(version))
