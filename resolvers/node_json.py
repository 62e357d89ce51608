"""The JSON of node calls: bodies encoded and answers read by orjson, as httpx's
``json=`` and ``Response.json`` would (``resolvers/nodeclient.py``)."""

from __future__ import annotations

import json
from typing import Any

import orjson

# orjson for the bodies of node calls; what it would encode or read otherwise than httpx's
# ``json=`` and ``Response.json`` goes to ``json``: objects (instants too) are refused as
# ``json.dumps`` refuses them, big integers and non-string keys encoded by ``json``, NaN
# and big integers read by it. (A NaN in variables, which no GraphQL ``Float`` carries,
# is sent as null where ``json`` refused it.)
_PASSTHROUGH = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _not_json(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def encode(body: Any) -> bytes:
    """``body`` as httpx's ``json=`` sends it (compact, UTF-8, no NaN), by orjson."""
    try:
        return orjson.dumps(body, default=_not_json, option=_PASSTHROUGH)
    except orjson.JSONEncodeError as exc:
        if isinstance(exc.__cause__, TypeError):
            raise exc.__cause__ from None
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


# where an integer orjson would read as a float (beyond 64 bits: twenty digits or more)
# can stand: first in the body, or after a colon, a comma or a bracket (and a minus).
# The answer translated — digits as "0", those three as ":", whitespace left out, the
# rest as "x" — and searched: twenty digits within a string (a code, an identifier)
# are not found, and such answers are read by orjson; a string that holds ":" and
# twenty digits is taken as maybe a number and read by ``json`` (the same answer).
# (A translation and two searches: a regex over every answer costs more than decoding.)
_NUMBERS = bytes(
    48 if 48 <= i <= 57 else 58 if i in b":,[" else 45 if i == 45 else 120 for i in range(256)
)
_WHITESPACE = b" \t\r\n"
_LONG = b"0" * 20
_MINUS = b"-" + _LONG
_AFTER = b":" + _LONG
_AFTER_MINUS = b":" + _MINUS


def _long_integer(content: bytes) -> bool:
    """Whether ``content`` may hold an integer of twenty digits or more."""
    marked = content.translate(_NUMBERS, _WHITESPACE)
    return (
        _AFTER in marked
        or _AFTER_MINUS in marked
        or marked.startswith(_LONG)
        or marked.startswith(_MINUS)
    )


def decode(content: bytes) -> Any:
    """A JSON answer, by orjson; what it does not read (NaN) or would read otherwise
    (an integer beyond 64 bits, read as a float) by ``json``, whose ``JSONDecodeError``
    means "not JSON"."""
    if _long_integer(content):
        return json.loads(content)
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return json.loads(content)
