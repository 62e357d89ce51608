"""Opaque global IDs (Relay): ``base64url("Type:LEVEL:key")``. The level is inside, so
``node(id:)`` goes straight to the right store without a lookup."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass

from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode

# the rows keyed by an integer (tickets, appointments, slots, ratings, rectifications,
# complaints) have an INTEGER primary key: 32 bits, signed, on PostgreSQL; their ids
# start at 1. A key outside that range names nothing and is INVALID_ID, never a query.
MAX_ROW_ID = 2**31 - 1

NODE_TYPES = frozenset(
    {
        "Division",
        "ServiceOrg",
        "Department",
        "Window",
        "Matter",
        "MatterImplementation",
        "Delegation",
        "Case",
        "ELicence",
        # 好差评 and 投诉: a row id of the store that holds the case (or the org)
        "Evaluation",
        "Rectification",
        "Complaint",
    }
)


@dataclass(frozen=True)
class GlobalId:
    type_name: str
    level: Level
    key: str

    def __str__(self) -> str:
        raw = f"{self.type_name}:{self.level.value}:{self.key}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def encode_id(type_name: str, level: Level, key: str) -> str:
    return str(GlobalId(type_name, level, key))


def decode_id(value: str) -> GlobalId:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        type_name, level, key = raw.split(":", 2)
        if type_name not in NODE_TYPES or not key or len(key) > 64:
            raise ValueError(type_name)
        return GlobalId(type_name, Level(level), key)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise DomainError(ErrorCode.INVALID_ID, field=["id"]) from None


def row_id(key: str, field: Sequence[str] = ("id",)) -> int:
    """The integer row id a global ID's key holds: plain digits, 1 … ``MAX_ROW_ID``."""
    if not (key.isascii() and key.isdigit()) or len(key) > 10 or not 0 < int(key) <= MAX_ROW_ID:
        raise DomainError(ErrorCode.INVALID_ID, field=list(field))
    return int(key)


def decode_row_id(value: str, type_name: str, field: Sequence[str]) -> tuple[Level, int]:
    """The level and integer row id of a global ID of ``type_name`` (also of the types
    ``node`` does not serve: tickets, appointments, slots); anything else is INVALID_ID
    at ``field``."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        kind, level, key = raw.split(":", 2)
        if kind != type_name:
            raise ValueError(kind)
        return Level(level), row_id(key, field)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise DomainError(ErrorCode.INVALID_ID, field=list(field)) from None
