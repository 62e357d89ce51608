"""A row of a table as JSON and back, column by column: how a node hands the hub the
rows the hub's types are built from (``columns`` of the node API's entities), whatever
the columns are. Dates and timestamps travel as ISO 8601 (with their offset), enums by
name; JSON columns as they are. The hub gets a transient instance of the mapped class,
which the API's ``from_row`` reads as it reads a row of its own store."""

from __future__ import annotations

import datetime as dt
import enum
import operator
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar, cast

from sqlalchemy import JSON, Column, Enum, Table
from sqlalchemy.engine import Row
from sqlalchemy.orm import class_mapper
from sqlalchemy.orm.instrumentation import manager_of_class
from sqlalchemy.types import TypeDecorator

from levels.common.reads import ColumnsRow

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
        return kind._member_map_.__getitem__  # ``kind[name]`` without its Python frame
    if issubclass(kind, dt.datetime):
        return dt.datetime.fromisoformat
    if issubclass(kind, dt.date):
        return dt.date.fromisoformat
    return _same


# values JSON carries as they are (a subclass, a ``StrEnum`` say, is converted)
_PLAIN = frozenset({str, int, bool, float, type(None), list, dict})
# the column types whose values a Core row gives as JSON carries them
_PLAIN_COLUMNS = frozenset({str, int, bool, float})


def encode_row(table: Table, row: Any) -> dict[str, Any]:
    """Every column of ``table`` read from ``row`` (a Core row or a mapped instance),
    as JSON values by column name."""
    return dict(zip(_encoder(table).keys, _values(table, row), strict=True))


def encode_present(table: Table, row: Any) -> dict[str, Any]:
    """``encode_row`` without the columns that are null: what ``decode_row`` reads back
    as the same row (a column missing from its data is None), in fewer bytes."""
    return {
        k: v
        for k, v in zip(_encoder(table).keys, _values(table, row), strict=True)
        if v is not None
    }


def _values(table: Table, row: Any) -> list[Any]:
    """The JSON values of ``row``'s columns, in the table's order. A Core row is read by
    its mapping (its attributes are looked up in Python, some ten times slower) and
    only the columns whose type gives other values than JSON's (dates, instants, enums,
    custom and unknown types) are converted; a mapped instance is read by its
    attributes, every value looked at (what code set on it may be of another type)."""
    plan = _encoder(table)
    if isinstance(row, Row | ColumnsRow):
        values = list(plan.by_key(row._mapping))
        for i, convert in plan.converted:
            value = values[i]
            if value is not None:
                values[i] = convert(value)
        return values
    return [v if type(v) in _PLAIN else _to_json(v) for v in plan.by_attribute(row)]


@dataclass(frozen=True)
class _Encoder:
    keys: tuple[str, ...]
    by_key: Callable[[Any], tuple[Any, ...]]
    by_attribute: Callable[[Any], tuple[Any, ...]]
    # the positions of the columns whose values a Core row gives otherwise than JSON
    # carries them, each with its conversion
    converted: tuple[tuple[int, Callable[[Any], Any]], ...]


@cache
def _encoder(table: Table) -> _Encoder:
    keys = tuple(c.key for c in table.columns)
    by_key: Callable[[Any], tuple[Any, ...]] = operator.itemgetter(*keys)
    by_attribute: Callable[[Any], tuple[Any, ...]] = operator.attrgetter(*keys)
    if len(keys) == 1:  # a getter of one name answers the value, not a tuple
        one_key, one_attribute = by_key, by_attribute
        by_key = lambda row: (one_key(row),)  # noqa: E731
        by_attribute = lambda row: (one_attribute(row),)  # noqa: E731
    converted = tuple(
        (i, convert)
        for i, c in enumerate(table.columns)
        if (convert := _to_json_of(c)) is not _same
    )
    return _Encoder(keys, by_key, by_attribute, converted)


_NAME = operator.attrgetter("_name_")  # an enum member's name, without its Python frame
_ISOFORMAT = operator.methodcaller("isoformat")


def _to_json_of(column: Column[Any]) -> Callable[[Any], Any]:
    """What makes a column's value, as a Core row gives it, a JSON value (as
    ``_to_json`` does): an enum member's name, a date's or an instant's ISO 8601; the
    others as they are, and ``_to_json`` where the type does not say."""
    if isinstance(column.type, JSON):  # as it was stored: lists, objects, strings …
        return _same
    kind = _python_type(column)
    if kind is None:
        return _to_json
    if issubclass(kind, enum.Enum):
        return _NAME
    if issubclass(kind, dt.date):  # a datetime too
        return _ISOFORMAT
    if kind in _PLAIN_COLUMNS and not isinstance(column.type, TypeDecorator):
        return _same
    return _to_json


def decode_row(model: type[M], data: Mapping[str, Any]) -> M:
    """A transient ``model`` instance with the columns of ``data`` (``encode_row``'s
    output); a column missing from ``data`` is None, a key that is no column is left
    out. Its attributes are set as a load from the database sets them (the instance's
    dict, no change events): a read-only copy, some twenty times cheaper than the
    constructor."""
    plan = _decoder(cast(Hashable, model))
    values = dict(plan.nulls)
    if data.keys() <= plan.keys:
        values.update(data)
    else:
        values.update((k, v) for k, v in data.items() if k in plan.keys)
    for key, convert in plan.converters:
        value = values[key]
        if value is not None:
            values[key] = convert(value)
    instance: M = plan.new_instance()
    instance.__dict__.update(values)
    return instance


@dataclass(frozen=True)
class _Decoder:
    new_instance: Callable[[], Any]
    # every column None: what a row missing from the data reads
    nulls: dict[str, None]
    keys: frozenset[str]
    # the columns whose JSON value is converted (dates, instants, enums)
    converters: tuple[tuple[str, Callable[[Any], Any]], ...]


@cache
def _decoder(model: Any) -> _Decoder:
    class_mapper(model)  # the mappers configured (the first time)
    table: Table = model.__table__
    converters = tuple((c.key, _converter(c)) for c in table.columns)
    return _Decoder(
        new_instance=manager_of_class(model).new_instance,
        nulls=dict.fromkeys(c.key for c in table.columns),
        keys=frozenset(c.key for c in table.columns),
        converters=tuple((k, f) for k, f in converters if f is not _same),
    )
