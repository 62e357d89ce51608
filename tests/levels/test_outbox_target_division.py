"""The division a message goes to is a column of the outbox: migration 0026 fills it
for the rows a store holds from the ``targetDivision`` their payload named, ``enqueue``
writes it, and the messenger routes by it — to the node owning that division, not the
message's own division's."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, column, inspect, select
from sqlalchemy import table as sql_table
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from gateway.messaging.worker import Messenger
from levels.common import migrate
from levels.common.enums import Level
from levels.common.nodemap import NodeMap
from levels.outbox import service as outbox
from levels.outbox.models import MessageState, OutboxMessage
from levels.outbox.signing import NodeKeys
from tests.support.revisions import alembic, store_at

NOW = dt.datetime(2026, 12, 7, 4, 0, tzinfo=dt.UTC)
VILLAGE = "140703100201"  # a village of 太谷区
YUCI = "140702000000"
PER_COUNTY = NodeMap.from_mapping(
    {
        "nodes": [
            {"id": "jinzhong", "prefixes": ["140700"]},
            {"id": "yuci", "prefixes": ["140702"]},
            {"id": "taigu", "prefixes": ["140703"]},
        ]
    }
)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A store migrated to the revision before the column."""
    async with store_at(tmp_path, "tdiv", "0025") as made:
        yield made


def _row(n: int, payload: dict[str, Any]) -> dict[str, Any]:
    """An outbox row as revision 0025 held it."""
    return {
        "id": f"{n:032x}",
        "topic": "case.referred",
        "source_level": "VILLAGE",
        "target_level": "COUNTY",
        "case_number": f"{VILLAGE}-20261207-{n:05d}",
        "division_code": VILLAGE,
        "entity": f"case:{n}",
        "entity_seq": 1,
        "payload": payload,
        "state": "PENDING",
        "attempts": 0,
        "next_attempt_at": NOW,
        "created_at": NOW,
    }


def _indexes(connection: Connection) -> set[str]:
    return {ix["name"] or "" for ix in inspect(connection).get_indexes("outbox")}


async def test_the_migration_fills_it_from_the_payload_and_indexes_it(
    engine: AsyncEngine,
) -> None:
    rows = [_row(1, {"number": "x", "targetDivision": YUCI}), _row(2, {"number": "y"})]
    bare = sql_table("outbox", *(column(k, OutboxMessage.__table__.c[k].type) for k in rows[0]))
    async with engine.begin() as conn:
        await conn.execute(bare.insert(), rows)
        await conn.run_sync(alembic, "upgrade", "head")
    async with async_sessionmaker(engine)() as session:
        found = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        assert [m.target_division for m in found] == [YUCI, None]
        # the sender named one; the other goes where its own division lies
        assert [outbox.target_division(m) for m in found] == [YUCI, VILLAGE]
    async with engine.connect() as conn:
        assert "ix_outbox_target_division" in await conn.run_sync(_indexes)
    async with engine.begin() as conn:
        await conn.run_sync(alembic, "downgrade", "0025")
    async with engine.connect() as conn:
        assert await conn.run_sync(migrate._revision) == "0025"
        assert "ix_outbox_target_division" not in await conn.run_sync(_indexes)


async def test_a_message_is_written_with_it_and_routed_by_it(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(alembic, "upgrade", "head")
    async with async_sessionmaker(engine, expire_on_commit=False).begin() as session:
        named, own = [
            await outbox.enqueue(
                session,
                topic="case.referred",
                source=Level.VILLAGE,
                target=Level.COUNTY,
                payload={"number": str(n)},
                now=NOW,
                case_number=f"{VILLAGE}-20261207-{n:05d}",
                target_division=target,
            )
            for n, target in ((1, YUCI), (2, None))
        ]
    async with async_sessionmaker(engine)() as session:
        stored = await session.get(OutboxMessage, named.id)
        assert stored is not None and stored.target_division == YUCI
        # the payload is what the sender gave: the column says where it goes
        assert stored.payload == {"number": "1"} and stored.state is MessageState.PENDING
        again = await session.get(OutboxMessage, own.id)
        assert again is not None and again.target_division is None
    messenger = Messenger(
        nodes=None,
        transport=None,
        clock=None,
        signer=None,
        keys=NodeKeys({}, PER_COUNTY),
    )
    # a 太谷区 village's message to the county it names, and one to its own county
    assert messenger.target_of(stored) == "yuci"
    assert messenger.target_of(again) == "taigu"
