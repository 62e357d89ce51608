"""The data of a licence, checked against its type's field schema.

A field is given by the director who decides (``licenceFields``), or filled from the
case (``from``: ``applicant.name``, ``applicant.idMasked``, ``decision.date``,
``case.matterName``), or takes its ``default``; a required field with none of these
refuses the decision, as does an unknown key or a value not of the field's type."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from levels.common.errors import DomainError
from levels.licences.enums import FieldType
from levels.licences.errors import LicenceErrorCode

MAX_TEXT = 256
_KEY = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]{0,31}$")


@dataclass(frozen=True)
class CaseFacts:
    """What a licence may take from the case that issues it."""

    applicant_name: str
    applicant_id_masked: str
    matter_name: str
    decided_on: dt.date

    def value(self, source: str) -> str | None:
        return {
            "applicant.name": self.applicant_name,
            "applicant.idMasked": self.applicant_id_masked,
            "case.matterName": self.matter_name,
            "decision.date": self.decided_on.isoformat(),
        }.get(source)


def _check(spec: Mapping[str, Any], raw: str, where: list[str]) -> str:
    kind = FieldType(spec.get("type", "TEXT"))
    value = raw.strip()
    bad = DomainError(LicenceErrorCode.LICENCE_FIELD_INVALID, field=where, detail=spec["key"])
    if len(value) > MAX_TEXT:
        raise bad
    if kind is FieldType.DATE:
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            raise bad from None
    if kind is FieldType.NUMBER:
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise bad from None
        if not number.is_finite():
            raise bad
        return str(number)
    if kind is FieldType.CHOICE and value not in spec.get("choices", []):
        raise bad
    return value


def licence_data(
    schema: list[Mapping[str, Any]],
    given: Mapping[str, str],
    facts: CaseFacts,
    *,
    field: tuple[str, ...] = ("input", "licenceFields"),
) -> dict[str, str]:
    """The data of a new licence: ``given`` checked and completed from the case."""
    by_key = {f["key"]: f for f in schema}
    for key in given:
        if key not in by_key:
            raise DomainError(
                LicenceErrorCode.LICENCE_FIELD_UNKNOWN, field=[*field, key], detail=key
            )
    data: dict[str, str] = {}
    for spec in schema:
        key = spec["key"]
        where = [*field, key]
        if key in given and given[key].strip():
            data[key] = _check(spec, given[key], where)
            continue
        filled = facts.value(spec["from"]) if spec.get("from") else spec.get("default")
        if filled:
            data[key] = _check(spec, str(filled), where)
        elif spec.get("required"):
            raise DomainError(LicenceErrorCode.LICENCE_FIELD_REQUIRED, field=where, detail=key)
    return data


def valid_key(key: str) -> bool:
    return bool(_KEY.match(key))
