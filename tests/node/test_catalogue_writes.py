"""The catalogue published at the node that keeps it (``publishCatalogue``), called as
the hub calls it: an urgent adjustment is the next version with every matter naming
it; a regular publication outside June and December is refused typed with nothing
written; a node that does not keep the city refuses. The demo stores are shared: the
test puts the catalogue back as it found it."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete, func, select

from gateway.nodes import NodeRegistry
from levels.city.models import CataloguePublication, Matter
from levels.common.clock import CHINA
from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from resolvers import nodewrites, remote
from tests.node.conftest import MakeClient

CITY = "140700000000"  # 晋中市
ADMIN = {"id": "jz.admin", "kind": "STAFF", "role": "ADMIN"}
NOW = dt.datetime(2026, 11, 20, 10, tzinfo=CHINA)


@pytest.fixture
async def restored(nodes: NodeRegistry) -> AsyncIterator[int]:
    """The number of publications before; the catalogue put back after."""
    async with nodes[Level.CITY].sessions() as s:
        before = {
            m.basic_code: (m.published_batch, m.published_on, m.published_version)
            for m in await s.scalars(select(Matter))
        }
        last = await s.scalar(select(func.max(CataloguePublication.version))) or 0
        count = int(await s.scalar(select(func.count()).select_from(CataloguePublication)) or 0)
    yield count
    async with nodes[Level.CITY].sessions.begin() as s:
        await s.execute(delete(CataloguePublication).where(CataloguePublication.version > last))
        for m in await s.scalars(select(Matter)):
            m.published_batch, m.published_on, m.published_version = before[m.basic_code]


async def _count(nodes: NodeRegistry) -> int:
    async with nodes[Level.CITY].sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(CataloguePublication)) or 0)


async def test_the_catalogue_is_published_at_the_city_node(
    nodes: NodeRegistry, node_client: MakeClient, restored: int
) -> None:
    city = node_client("city")
    refused = await nodewrites.publish_catalogue(city, CITY, urgent=False, actor=ADMIN, now=NOW)
    error = remote.refusal(refused)
    assert refused["columns"] is None and error is not None
    assert (error.code.value, error.field) == ("OUTSIDE_PUBLICATION_MONTHS", ["input", "urgent"])
    assert await _count(nodes) == restored

    done = await nodewrites.publish_catalogue(
        city, CITY, urgent=True, actor=ADMIN, now=NOW, reason="调整办理时限"
    )
    assert done["error"] is None, done
    published = done["columns"]
    assert (published["urgent"], published["batch"], published["published_by"]) == (
        True,
        "2026-11",
        "jz.admin",
    )
    assert await _count(nodes) == restored + 1
    async with nodes[Level.CITY].sessions() as s:
        versions = set(await s.scalars(select(Matter.published_version)))
    assert versions == {published["version"]}


async def test_a_node_that_does_not_keep_the_city_refuses(node_client: MakeClient) -> None:
    with pytest.raises(DomainError) as refused:
        await nodewrites.publish_catalogue(
            node_client("county"), CITY, urgent=True, actor=ADMIN, now=NOW, reason="x"
        )
    assert refused.value.code is ErrorCode.DIVISION_NOT_OWNED
