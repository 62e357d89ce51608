"""Settings, read from the environment (``GOVHUB_`` prefix) or a ``.env`` file.

With nothing configured GovHub runs embedded: one SQLite file per store under
``./var/`` and in-process stand-ins for Redis.
"""

from __future__ import annotations

import datetime as dt
import enum
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from levels.common.enums import Level


class Mode(enum.Enum):
    DEV = "dev"
    PROD = "prod"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GOVHUB_", env_file=".env", extra="ignore")

    mode: Mode = Mode.DEV
    var_dir: Path = Path("var")
    city_db_url: str | None = None
    county_db_url: str | None = None
    town_db_url: str | None = None
    village_db_url: str | None = None
    identity_db_url: str | None = None
    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("GOVHUB_REDIS_URL", "REDIS_URL")
    )
    host: str = "127.0.0.1"
    port: int = 8000
    # freeze "now" for tests and demos (ISO 8601, with offset); None = the real clock
    clock_override: dt.datetime | None = None
    # a node that does not answer within this many seconds counts as unavailable
    node_timeout_seconds: float = 5.0
    max_page_size: int = 100
    default_page_size: int = 20
    # echo every SQL statement to the log (debugging only)
    sql_echo: bool = False

    def db_url(self, store: Level | str) -> str:
        """The SQLAlchemy URL of a level store (or ``"identity"``)."""
        name = store.value.lower() if isinstance(store, Level) else store
        configured: str | None = getattr(self, f"{name}_db_url")
        if configured:
            return configured
        return f"sqlite+aiosqlite:///{(self.var_dir / f'{name}.sqlite3').as_posix()}"

    @property
    def is_dev(self) -> bool:
        return self.mode is Mode.DEV
