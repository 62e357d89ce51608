"""A node's message key is kept under the org ``node:<id>``: migration 0028 widens
``licence_keys.org_code`` to 64 characters, so a node of a 20- or 40-character id makes
its key and signs on PostgreSQL too (an 18-character column held ids of up to 13), and
goes back to 18 only while no such key is there."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import jwt
import pytest
from sqlalchemy import Connection, delete, inspect
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from levels.common import migrate
from levels.common.enums import Level
from levels.common.nodemap import NODE_ID_MAX
from levels.licences.models import LicenceKey
from levels.outbox import signing
from levels.outbox.service import enqueue
from tests.conftest import DEMO_NOW, TEST_SECRET
from tests.support.revisions import alembic, store_at

LONG = "county-140702-abcdef"  # 20 characters
LONGEST = "n" * NODE_ID_MAX


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A store at the revision before the widening."""
    async with store_at(tmp_path, "nodekey", "0027") as made:
        yield made


def _org_code_length(connection: Connection) -> int | None:
    (column,) = [
        c for c in inspect(connection).get_columns("licence_keys") if c["name"] == "org_code"
    ]
    return getattr(column["type"], "length", None)


async def _sign(engine: AsyncEngine, node: str) -> str:
    async with async_sessionmaker(engine, expire_on_commit=False).begin() as session:
        row = await enqueue(
            session,
            topic="test.keys",
            source=Level.COUNTY,
            target=Level.CITY,
            payload={},
            now=DEMO_NOW,
            division_code="140702000000",
        )
        return await signing.NodeSigner(TEST_SECRET.encode()).envelope(session, node, row, DEMO_NOW)


async def test_the_column_widens_and_a_long_node_id_signs(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        assert await conn.run_sync(_org_code_length) == 18
    async with engine.begin() as conn:
        await conn.run_sync(alembic, "upgrade", "head")
    async with engine.connect() as conn:
        assert await conn.run_sync(_org_code_length) == 64
    for node in (LONG, LONGEST):
        envelope = await _sign(engine, node)
        kid = jwt.get_unverified_header(envelope)["kid"]
        assert kid.startswith(f"node:{node}-") and len(kid) <= 64
        assert jwt.decode(envelope, options={"verify_signature": False})["iss"] == node
    # a downgrade would not hold those keys: refused while they are there
    async with engine.begin() as conn:
        with pytest.raises(RuntimeError, match="longer than 13 characters"):
            await conn.run_sync(alembic, "downgrade", "0027")
    async with engine.begin() as conn:
        await conn.execute(delete(LicenceKey))
        await conn.run_sync(alembic, "downgrade", "0027")
    async with engine.connect() as conn:
        assert await conn.run_sync(migrate._revision) == "0027"
        assert await conn.run_sync(_org_code_length) == 18
