"""The cursors of a node's ordered lists: opaque to clients, a position in the list's
key order inside. The node reads them (``after``) and writes them (``endCursor``); the
hub, which merges the lists of several nodes with one position per node, writes the
cursor of the key it stopped at when it asks a node for the rest."""

from __future__ import annotations

import base64
import binascii

from levels.common.errors import DomainError, ErrorCode

_SEPARATOR = "\x1f"


def encode_cursor(kind: str, *parts: str) -> str:
    text = _SEPARATOR.join((kind, *parts))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, kind: str, count: int) -> list[str]:
    """The ``count`` key parts of a cursor of ``kind``; INVALID_CURSOR (on ``after``)
    for anything else."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    parts = text.split(_SEPARATOR)
    if len(parts) != count + 1 or parts[0] != kind:
        raise DomainError(ErrorCode.INVALID_CURSOR, field=["after"])
    return parts[1:]


def case_cursor(number: str) -> str:
    """The cursor after the case ``number`` in a node's ``cases`` list."""
    return encode_cursor("case", number)
