"""Schema migrations of the stores, through Alembic (never ``create_all``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData
from sqlalchemy.ext.asyncio import AsyncEngine

from alembic import command

Chain = Literal["levels", "identity"]

_ROOT = Path(__file__).resolve().parents[2]


def target_metadata(chain: str) -> MetaData:
    if chain == "levels":
        from levels.models import metadata

        return metadata
    from auth.models import metadata as identity_metadata

    return identity_metadata


def alembic_config(chain: Chain) -> Config:
    return Config(str(_ROOT / "alembic.ini"), ini_section=chain)


def _upgrade(connection: Connection, chain: Chain) -> None:
    cfg = alembic_config(chain)
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


def _is_current(connection: Connection, chain: Chain) -> bool:
    heads = set(ScriptDirectory.from_config(alembic_config(chain)).get_heads())
    current = set(MigrationContext.configure(connection).get_current_heads())
    return heads == current


async def upgrade(engine: AsyncEngine, chain: Chain) -> None:
    """Bring one store to the newest revision of its chain."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, chain)


async def is_current(engine: AsyncEngine, chain: Chain) -> bool:
    async with engine.connect() as conn:
        return await conn.run_sync(_is_current, chain)


def _revision(connection: Connection) -> str | None:
    heads = sorted(MigrationContext.configure(connection).get_current_heads())
    return ",".join(heads) or None


async def revision(engine: AsyncEngine) -> str | None:
    """The store's current revision (None: never migrated)."""
    async with engine.connect() as conn:
        return await conn.run_sync(_revision)
