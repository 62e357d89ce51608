"""Opaque global IDs (Relay): ``base64url("Type:LEVEL:key")``. The level is inside, so
``node(id:)`` goes straight to the right store without a lookup."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode

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
