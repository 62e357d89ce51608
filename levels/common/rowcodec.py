"""A row of a table as JSON and back, column by column: how a node hands the hub the
rows the hub's types are built from (``columns`` of the node API's entities), whatever
the columns are. Dates and timestamps travel as ISO 8601 (with their offset), enums by
name; JSON columns as they are. The hub gets a transient instance of the mapped class,
which the API's ``from_row`` reads as it reads a row of its own store."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy import Column, Enum, Table
from sqlalchemy.types import TypeDecorator

M = TypeVar("M")


def _python_type(column: Column[Any]) -> type | None:
    kind = column.type
    if isinstance(kind, TypeDecorator):  # e.g. AwareDateTime: what it stores as
        kind = kind.impl_instance
    if isinstance(kind, Enum):
        return kind.enum_class
    try:
        found: type = kind.python_type
    except NotImplementedError:
        return None
    return found


def _to_json(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, dt.date):  # a datetime too
        return value.isoformat()
    return value


def _from_json(column: Column[Any], value: Any) -> Any:
    if value is None:
        return None
    kind = _python_type(column)
    if kind is None:
        return value
    if issubclass(kind, enum.Enum):
        return kind[value]
    if issubclass(kind, dt.datetime):
        return dt.datetime.fromisoformat(value)
    if issubclass(kind, dt.date):
        return dt.date.fromisoformat(value)
    return value


def encode_row(table: Table, row: Any) -> dict[str, Any]:
    """Every column of ``table`` read from ``row`` (a Core row or a mapped instance),
    as JSON values by column name."""
    return {c.key: _to_json(getattr(row, c.key)) for c in table.columns}


def decode_row(model: type[M], data: Mapping[str, Any]) -> M:
    """A transient ``model`` instance with the columns of ``data`` (``encode_row``'s
    output); a column missing from ``data`` is None."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    return model(**{c.key: _from_json(c, data.get(c.key)) for c in table.columns})
