"""Jurisdiction filters as key ranges. Every key that routes (division codes, case
numbers, the ids that lead with a division code) sorts under its division's prefix, so
"every row of the divisions under ``prefix``" is ``key >= lo AND key < hi``: an index
range scan on any B-tree index of the key, in any collation, where ``LIKE 'prefix%'``
(or ``startswith``) uses an index only under the C collation or a ``text_pattern_ops``
index and otherwise reads the whole table."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_
from sqlalchemy.sql.elements import ColumnElement

from levels.common.codes import key_range


def within(column: ColumnElement[Any] | Any, prefix: str) -> ColumnElement[bool]:
    """``column`` starts with ``prefix``, as a half-open range the index can seek:
    ``"140702"`` → ``column >= '140702' AND column < '140703'``. An empty prefix is
    every non-null key. ``prefix`` is a run of digits (a division prefix): keys that
    continue it with characters above ``9`` are not ours."""
    lo, hi = key_range(prefix)
    if not lo:
        return column.is_not(None)
    if hi is None:
        return column >= lo
    return and_(column >= lo, column < hi)
