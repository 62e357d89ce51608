"""How the API writes instants: one convention for every ``DateTime`` field.

An instant leaves the hub as ISO 8601 with the offset of China Standard Time,
``2026-11-20T10:00:00+08:00``, whichever store or code path it came from: a value just
written carries the clock's +08:00, one read back from SQLite comes as UTC, one from
PostgreSQL in the session's zone. A value without an offset is UTC (how the stores keep
instants, ``levels/common/models.AwareDateTime``). An input without an offset is read as
China Standard Time, like every date of the API (``Date`` fields are days in China)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from strawberry.schema.types.base_scalars import DateTimeDefinition, wrap_parser
from strawberry.types.scalar import ScalarDefinition

from levels.common.clock import CHINA


def serialize_instant(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(CHINA).isoformat()


def parse_instant(text: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(text)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=CHINA)


DATETIME = dataclasses.replace(
    DateTimeDefinition,
    description="An instant, ISO 8601 with the offset of China Standard Time "
    "(2026-11-20T10:00:00+08:00); an input without an offset is read in that zone",
    serialize=serialize_instant,
    parse_value=wrap_parser(parse_instant, "DateTime"),
    implementation=None,
)

SCALARS: dict[object, ScalarDefinition] = {dt.datetime: DATETIME}
