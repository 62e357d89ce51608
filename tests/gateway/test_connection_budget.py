"""The PostgreSQL connection budget: every worker process has a pool per store on
PostgreSQL, sized so that workers × stores × pool stays within
GOVHUB_DB_CONNECTION_BUDGET (default 80, for PostgreSQL's default max_connections=100);
a hand-set pool that would not fit is refused at start-up."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.nodes import NodeRegistry
from gateway.settings import Settings

PG = "postgresql+asyncpg://govhub@127.0.0.1:5432/"
STORES = ("city", "county", "town", "village", "identity")


def _settings(**values: object) -> Settings:
    urls = {f"{s}_db_url": f"{PG}budget_{s}" for s in STORES}
    return Settings(_env_file=None, **{**urls, **values})  # type: ignore[arg-type]


@pytest.mark.parametrize("workers", [1, 2, 3, 4, 8])
def test_the_pools_of_every_worker_fit_the_default_budget(workers: int) -> None:
    settings = _settings(workers=workers)
    size, overflow = settings.db_pool()
    assert size >= 1
    assert workers * 5 * (size + overflow) <= 80


def test_one_worker_gets_the_whole_budget_and_two_share_it() -> None:
    assert _settings(workers=1).db_pool() == (8, 8)
    assert _settings(workers=2).db_pool() == (4, 4)
    assert _settings(workers=2, db_connection_budget=200).db_pool() == (10, 10)


def test_sqlite_stores_take_no_share_of_the_budget() -> None:
    settings = Settings(_env_file=None, county_db_url=f"{PG}budget_county", workers=2)  # type: ignore[call-arg]
    assert settings.postgres_stores() == 1
    assert settings.db_pool() == (20, 20)


def test_a_hand_set_pool_over_the_budget_is_refused() -> None:
    with pytest.raises(ValidationError, match="GOVHUB_DB_CONNECTION_BUDGET=80"):
        _settings(workers=2, db_pool_size=5, db_max_overflow=5)
    assert _settings(workers=1, db_pool_size=5, db_max_overflow=5).db_pool() == (5, 5)


def test_a_budget_too_small_for_the_workers_is_refused() -> None:
    with pytest.raises(ValidationError, match="over GOVHUB_DB_CONNECTION_BUDGET=8"):
        _settings(workers=2, db_connection_budget=8)


async def test_each_store_engine_is_built_with_the_derived_pool() -> None:
    nodes = NodeRegistry.from_settings(_settings(workers=2))
    try:
        for store in nodes.stores():
            pool = store.engine.pool
            assert pool.size() == 4  # type: ignore[attr-defined]
            assert pool._max_overflow == 4  # type: ignore[attr-defined]
    finally:
        await nodes.dispose()
