"""Opaque global IDs (Relay): ``base64url("Type:<division code>:key")``. The 12-digit
code of the division that holds the row is inside: the node that holds it follows from
the node map, its level from the code, so ``node(id:)`` goes straight to the right
store without a lookup. The matter catalogue belongs to no division (one per
deployment, in the city node): a ``Matter``'s ID says ``CITY`` where a division would
stand.

IDs of the previous release, ``base64url("Type:LEVEL:key")``, still decode (one
release of compatibility): they carry the level, and the division when their key holds
one (divisions, departments, windows, delegations)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass

from levels.common.codes import level_of_division
from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from levels.common.publicids import is_public_id

# the rows keyed by an integer (tickets, appointments, slots, ratings, rectifications,
# complaints) have an INTEGER primary key: 32 bits, signed, on PostgreSQL; their ids
# start at 1. Their IDs name them by public key; an ID of the previous release by the
# integer, and one outside that range names nothing: INVALID_ID, never a query.
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
        # 好差评 and 投诉: a row of the store that holds the case (or the org)
        "Evaluation",
        "Rectification",
        "Complaint",
    }
)

# the types whose key starts with the division that holds them: an ID of the old
# format names its division through the key
_KEY_LEADS_WITH_DIVISION = frozenset({"Division", "Department", "Window", "Delegation"})


@dataclass(frozen=True)
class GlobalId:
    """A decoded global ID: the type, the level of the store that holds the row, its
    key there, and the division that holds it (None for the catalogue's matters and
    for an ID of the previous release whose key names no division); ``legacy``: it
    came in the previous release's format."""

    type_name: str
    level: Level
    key: str
    division: str | None = None
    legacy: bool = False

    def __str__(self) -> str:
        where = self.division if self.division is not None else self.level.value
        raw = f"{self.type_name}:{where}:{self.key}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def encode_id(type_name: str, division: str | Level, key: str) -> str:
    """The global ID of the row ``key`` of ``type_name`` held by ``division`` (a
    12-digit division code; ``Level.CITY`` for a matter of the catalogue)."""
    if isinstance(division, Level):
        if type_name != "Matter":
            raise ValueError(f"a {type_name} is held by a division, not a level")
        return str(GlobalId(type_name, division, key))
    level = level_of_division(division)
    if level is None:
        raise ValueError(f"not a division code: {division!r}")
    return str(GlobalId(type_name, level, key, division))


def _parse(value: str) -> GlobalId:
    """A global ID of either format; ValueError (and its kin) when it is none."""
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    type_name, where, key = raw.split(":", 2)
    if not key or len(key) > 64:
        raise ValueError(key)
    level = level_of_division(where)
    if level is not None:
        if type_name in _KEY_LEADS_WITH_DIVISION and key[:12] != where:
            raise ValueError(key)
        return GlobalId(type_name, level, key, where)
    old = Level(where)
    division = key[:12] if type_name in _KEY_LEADS_WITH_DIVISION else None
    if division is not None and level_of_division(division) is not old:
        raise ValueError(key)
    return GlobalId(type_name, old, key, division, legacy=type_name != "Matter")


def decode_id(value: str) -> GlobalId:
    try:
        gid = _parse(value)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise DomainError(ErrorCode.INVALID_ID, field=["id"]) from None
    if gid.type_name not in NODE_TYPES:
        raise DomainError(ErrorCode.INVALID_ID, field=["id"])
    return gid


def row_id(key: str, field: Sequence[str] = ("id",)) -> int:
    """The integer row id a global ID's key holds: plain digits, 1 … ``MAX_ROW_ID``."""
    if not (key.isascii() and key.isdigit()) or len(key) > 10 or not 0 < int(key) <= MAX_ROW_ID:
        raise DomainError(ErrorCode.INVALID_ID, field=list(field))
    return int(key)


def row_key(gid: GlobalId, field: Sequence[str] = ("id",)) -> str | int:
    """What names a row a store numbers with an integer (a rating, a ticket …): its
    public key, held by the division the ID names; in an ID of the previous release,
    its integer id in the store of the ID's level."""
    if gid.legacy or gid.division is None:
        return row_id(gid.key, field)
    if not is_public_id(gid.key) or gid.key[:12] != gid.division:
        raise DomainError(ErrorCode.INVALID_ID, field=list(field))
    return gid.key


def decode_row_key(value: str, type_name: str, field: Sequence[str]) -> tuple[Level, str | int]:
    """The level and row key (``row_key``) of a global ID of ``type_name`` (also of the
    types ``node`` does not serve: tickets, appointments, slots); anything else is
    INVALID_ID at ``field``."""
    try:
        gid = _parse(value)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise DomainError(ErrorCode.INVALID_ID, field=list(field)) from None
    if gid.type_name != type_name:
        raise DomainError(ErrorCode.INVALID_ID, field=list(field))
    return gid.level, row_key(gid, field)
