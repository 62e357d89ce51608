"""Public keys of the rows a store numbers: set on insert from the row's division, and
filled in by migration 0025 for the rows a store already holds."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Boolean, Date, Integer, Table, column, insert, select
from sqlalchemy import table as sql_table
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from levels.common import migrate
from levels.common.enums import Level, OrgKind, WindowKind
from levels.common.models import ServiceOrg, Window
from levels.common.publicids import by_key, is_public_id
from levels.evaluations.models import Complaint, Evaluation, Rectification
from levels.windows.models import Appointment, AppointmentSlot, QueueTicket
from tests.support.revisions import alembic, store_at

TOWN = "140702101000"
ORG = "12140702MB00000101"
WINDOW = f"{TOWN}W01"
NUMBERED: list[Any] = [Evaluation, Rectification, Complaint, QueueTicket, AppointmentSlot]
NUMBERED += [Appointment]


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A store migrated to the revision before public keys."""
    async with store_at(tmp_path, "pk", "0023") as made:
        yield made


def _value(table: Table, name: str, n: int) -> Any:
    """A value for a required column of a row made up for the migration to fill."""
    col = table.c[name]
    given = {"division_code": TOWN, "org_code": ORG, "window_id": WINDOW}
    if name in given:
        return given[name]
    if name.endswith("_id") and isinstance(col.type, Integer):
        return n
    enum_class = getattr(col.type, "enum_class", None)
    if isinstance(enum_class, type) and issubclass(enum_class, enum.Enum):
        return next(iter(enum_class)).value
    if isinstance(col.type, Boolean):
        return False
    if isinstance(col.type, Integer):
        return n
    if isinstance(col.type, Date):
        return dt.date(2026, 12, 1) + dt.timedelta(days=n)
    if "DateTime" in type(col.type).__name__ or "AwareDateTime" in type(col.type).__name__:
        return dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    return f"{name[:8]}{n}"


async def test_the_migration_gives_every_numbered_row_a_key_of_its_division(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(ServiceOrg).values(
                code=ORG, division_code=TOWN, name="t", level=Level.TOWN.value,
                kind="CONVENIENCE_CENTER", address="", phone="", opening_hours="",
            )
        )  # fmt: skip
        await conn.execute(
            insert(Window).values(
                id=WINDOW, org_code=ORG, number="A01", name="w",
                kind=WindowKind.COMPREHENSIVE_RECEPTION.value, department_ids=[],
            )
        )  # fmt: skip
        for model in NUMBERED:
            table: Table = model.__table__
            for n in (1, 2):
                row = {
                    c.name: _value(table, c.name, n)
                    for c in table.columns
                    if c.name not in ("id", "public_id") and not c.nullable
                }
                # the columns of revision 0023 only: no public key, no default of it
                bare = sql_table(table.name, *(column(k, table.c[k].type) for k in ["id", *row]))
                await conn.execute(bare.insert().values(id=n, **row))
    async with engine.begin() as conn:
        await conn.run_sync(alembic, "upgrade", "head")
    async with engine.connect() as conn:
        for model in NUMBERED:
            keys = list(await conn.scalars(select(model.public_id).order_by(model.id)))
            assert len(keys) == 2 and len(set(keys)) == 2, model
            assert all(is_public_id(k) and k.startswith(f"{TOWN}-") for k in keys), keys


async def test_a_new_row_gets_its_key_and_is_found_by_it_or_by_its_number(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(alembic, "upgrade", "head")
    async with async_sessionmaker(engine, expire_on_commit=False).begin() as session:
        session.add(
            ServiceOrg(
                code=ORG, division_code=TOWN, name="t", level=Level.TOWN,
                kind=OrgKind.CONVENIENCE_CENTER,
            )
        )  # fmt: skip
        session.add(
            Window(
                id=WINDOW, org_code=ORG, number="A01", name="w",
                kind=WindowKind.COMPREHENSIVE_RECEPTION, department_ids=[],
            )
        )  # fmt: skip
        await session.flush()
        slot = AppointmentSlot(
            window_id=WINDOW, org_code=ORG, service_date=dt.date(2026, 12, 7),
            starts=540, ends=600, capacity=2,
        )  # fmt: skip
        session.add(slot)
        await session.flush()
        assert is_public_id(slot.public_id) and slot.public_id.startswith(f"{TOWN}-")
        assert await by_key(session, AppointmentSlot, slot.public_id) is slot
        assert await by_key(session, AppointmentSlot, slot.id) is slot
        assert await by_key(session, AppointmentSlot, f"{TOWN}-{'0' * 32}") is None


async def test_the_migration_steps_back(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(alembic, "upgrade", "head")
    async with engine.begin() as conn:
        await conn.run_sync(alembic, "downgrade", "0023")
    async with engine.connect() as conn:
        assert await conn.run_sync(migrate._revision) == "0023"
