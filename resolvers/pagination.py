"""Cursor connections over one node or merged across several.

Every list is ordered by a key that is unique across the network. A cursor records, for
each node, the key of the last item taken from it, so the next page asks each node only
for keys after its own position: merged pages never skip or repeat an item, even while
nodes are written to, and a node that was down keeps its position for the next page."""

from __future__ import annotations

import base64
import binascii
import heapq
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson

from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode

T = TypeVar("T")
Positions = dict[str, Any]
# a stream: a node id, or a level (its name)
Stream = str | Level


def _stream(name: Stream) -> str:
    return name.value if isinstance(name, Level) else name


def page_size(first: int | None, *, default: int, maximum: int) -> int:
    if first is None:
        return default
    if first > maximum:
        raise DomainError(ErrorCode.PAGE_SIZE_TOO_LARGE, field=["first"], detail=str(first))
    if first < 1:
        raise DomainError(ErrorCode.INVALID_PAGE_SIZE, field=["first"], detail=str(first))
    return first


def encode_cursor(positions: Mapping[Any, Any]) -> str:
    raw = orjson.dumps({_stream(name): key for name, key in positions.items()})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, allowed: Iterable[Stream]) -> Positions:
    if cursor is None:
        return {}
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = orjson.loads(raw)
        allowed_set = {_stream(a) for a in allowed}
        positions: Positions = {}
        for name, key in data.items():
            if not isinstance(name, str):
                raise TypeError(name)
            if name not in allowed_set and name.lower() in allowed_set and name in _LEVELS:
                name = name.lower()  # a cursor of the level-keyed era
            if name not in allowed_set or not _valid_key(key):
                raise ValueError(name)
            positions[name] = tuple(key) if isinstance(key, list) else key
        return positions
    except (ValueError, TypeError, AttributeError, binascii.Error, orjson.JSONDecodeError):
        raise DomainError(ErrorCode.INVALID_CURSOR, field=["after"]) from None


_LEVELS = {lv.value for lv in Level}


def _valid_key(key: Any) -> bool:
    if isinstance(key, str):
        return len(key) <= 64
    return (
        isinstance(key, list)
        and 0 < len(key) <= 4
        and all(isinstance(k, str) and len(k) <= 64 for k in key)
    )


@dataclass
class Page(Generic[T]):
    items: list[T]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool


def merge_page(
    streams: Mapping[Any, Sequence[T]],
    key: Callable[[T], Any],
    *,
    first: int,
    start: Positions,
) -> Page[T]:
    """Merge per-node ordered streams (each fetched with limit ``first + 1`` after its
    position in ``start``) into one page of at most ``first`` items."""
    tagged = (
        [(key(item), order, i, _stream(name), item) for i, item in enumerate(rows)]
        for order, (name, rows) in enumerate(sorted(streams.items(), key=_stream_order))
    )
    merged = list(heapq.merge(*tagged))
    positions = dict(start)
    items: list[T] = []
    cursors: list[str] = []
    for k, _order, _i, name, item in merged[:first]:
        positions[name] = k
        items.append(item)
        cursors.append(encode_cursor(positions))
    return Page(items, cursors, has_next_page=len(merged) > first, has_previous_page=bool(start))


def _stream_order(item: tuple[Any, Sequence[Any]]) -> tuple[int, str]:
    """Ties between streams break top level first, then by node id (stable)."""
    name = item[0]
    if isinstance(name, Level):
        return name.depth, ""
    return len(Level), name


def slice_page(
    rows: Iterable[T],
    key: Callable[[T], Any],
    level_of: Callable[[T], Level],
    *,
    first: int,
    start: Positions,
) -> Page[T]:
    """Paginate rows already in memory (e.g. from a DataLoader) exactly like rows
    fetched from the nodes, so both kinds of list share one cursor format."""
    streams: dict[Stream, list[T]] = {}
    for row in sorted(rows, key=key):
        level = level_of(row)
        after = start.get(level.value)
        stream = streams.setdefault(level, [])
        if (after is None or key(row) > after) and len(stream) <= first:
            stream.append(row)
    return merge_page(streams, key, first=first, start=start)
