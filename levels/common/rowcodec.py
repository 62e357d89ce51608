"""A row of a table as JSON and back, column by column: how a node hands the hub the
rows the hub's types are built from (``columns`` of the node API's entities), whatever
the columns are. Dates and timestamps travel as ISO 8601 (with their offset), enums by
name; JSON columns as they are. The hub gets a transient instance of the mapped class,
which the API's ``from_row`` reads as it reads a row of its own store."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Column, Enum, Table
from sqlalchemy.orm import class_mapper
from sqlalchemy.orm.instrumentation import manager_of_class
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


def _same(value: Any) -> Any:
    return value


def _converter(column: Column[Any]) -> Callable[[Any], Any]:
    """JSON → the column's Python value (for values that are not None)."""
    kind = _python_type(column)
    if kind is None:
        return _same
    if issubclass(kind, enum.Enum):
        return kind.__getitem__
    if issubclass(kind, dt.datetime):
        return dt.datetime.fromisoformat
    if issubclass(kind, dt.date):
        return dt.date.fromisoformat
    return _same


def encode_row(table: Table, row: Any) -> dict[str, Any]:
    """Every column of ``table`` read from ``row`` (a Core row or a mapped instance),
    as JSON values by column name."""
    return {c.key: _to_json(getattr(row, c.key)) for c in table.columns}


def decode_row(model: type[M], data: Mapping[str, Any]) -> M:
    """A transient ``model`` instance with the columns of ``data`` (``encode_row``'s
    output); a column missing from ``data`` is None. Its attributes are set as a load
    from the database sets them (the instance's dict, no change events): a read-only
    copy, some twenty times cheaper than the constructor."""
    class_mapper(model)  # the mappers configured (the first time)
    table: Table = model.__table__  # type: ignore[attr-defined]
    instance: M = manager_of_class(model).new_instance()
    instance.__dict__.update(
        (key, None if (value := data.get(key)) is None else convert(value))
        for key, convert in _converters(table)
    )
    return instance


@cache
def _converters(table: Table) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    return tuple((c.key, _converter(c)) for c in table.columns)
