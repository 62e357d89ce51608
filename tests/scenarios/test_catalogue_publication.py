"""清单公布 (seed 000: "于6月、12月…集中公布1次"): the city's admins publish the lists as a
new version in June and December, once a batch; in any other month, or again within a
batch, only as an urgent adjustment with its reason; every published version stays
readable, for anyone, as it was published.

The demo stores are shared: each test puts the catalogue back as it found it."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.city.models import CataloguePublication, Matter
from levels.common.clock import CHINA
from levels.common.enums import Level
from tests.auth.conftest import OwnHub, bearer, own_hub, signed_in

PUBLISH = """
mutation($input: PublishCatalogueInput!) {
  publishCatalogue(input: $input) {
    publication { version batch urgent reason matterCount }
    errors { code field message }
  }
}"""
VERSIONS = """
query($version: Int) {
  catalogueVersions(version: $version) {
    version batch urgent reason publishedAt matterCount matters { basicCode name status }
  }
}"""


def at(year: int, month: int, day: int) -> dt.datetime:
    return dt.datetime(year, month, day, 10, tzinfo=CHINA)


@pytest.fixture
async def hub(settings: Settings, nodes: NodeRegistry) -> AsyncIterator[OwnHub]:
    """A hub with its own clock; the catalogue and its publications restored after."""
    async with nodes[Level.CITY].sessions() as s:
        before = {
            m.basic_code: (m.name, m.published_batch, m.published_on, m.published_version)
            for m in await s.scalars(select(Matter))
        }
        last = await s.scalar(select(func.max(CataloguePublication.version))) or 0
    async with own_hub(settings, nodes) as h:
        yield h
    async with nodes[Level.CITY].sessions.begin() as s:
        await s.execute(delete(CataloguePublication).where(CataloguePublication.version > last))
        for m in await s.scalars(select(Matter)):
            m.name, m.published_batch, m.published_on, m.published_version = before[m.basic_code]


async def _publish(h: OwnHub, who: str, **given: Any) -> dict[str, Any]:
    token = (await signed_in(h.gql, who))["accessToken"]
    body = await h.gql(PUBLISH, {"input": given}, **bearer(token))
    assert "errors" not in body, body
    return dict(body["data"]["publishCatalogue"])


async def _count(nodes: NodeRegistry) -> int:
    async with nodes[Level.CITY].sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(CataloguePublication)) or 0)


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


async def test_the_lists_are_published_in_june_and_december_once_a_batch(
    hub: OwnHub, nodes: NodeRegistry
) -> None:
    """000 "于6月、12月…集中公布1次": a regular publication in June is a new version of the
    whole catalogue; a second one in the same batch is refused (the demo's June 2026
    batch is its version 1), in the next batch it is not."""
    hub.clock.instant = at(2026, 6, 30)
    assert codes(await _publish(hub, "jz.admin")) == ["BATCH_ALREADY_PUBLISHED"]
    hub.clock.instant = at(2027, 6, 15)
    async with nodes[Level.CITY].sessions() as s:
        matters = int(await s.scalar(select(func.count()).select_from(Matter)) or 0)
    first = await _publish(hub, "jz.admin")
    assert first["errors"] == []
    published = first["publication"]
    assert published["batch"] == "2027-06" and published["urgent"] is False
    assert published["matterCount"] == matters > 0
    async with nodes[Level.CITY].sessions() as s:
        versions = set(await s.scalars(select(Matter.published_version)))
    assert versions == {published["version"]}  # every matter names the version

    again = await _publish(hub, "jz.admin")
    assert codes(again) == ["BATCH_ALREADY_PUBLISHED"] and again["publication"] is None
    hub.clock.instant = at(2027, 12, 1)
    december = await _publish(hub, "jz.admin")
    assert december["publication"]["version"] == published["version"] + 1
    assert december["publication"]["batch"] == "2027-12"


async def test_outside_june_and_december_only_an_urgent_adjustment_with_a_reason(
    hub: OwnHub, nodes: NodeRegistry
) -> None:
    """000 "于6月、12月…集中公布1次": in November a regular publication is refused and
    writes nothing; an urgent adjustment needs its reason, which is kept."""
    hub.clock.instant = at(2026, 11, 20)
    count = await _count(nodes)
    refused = await _publish(hub, "jz.admin")
    assert codes(refused) == ["OUTSIDE_PUBLICATION_MONTHS"]
    assert refused["errors"][0]["field"] == ["input", "urgent"]
    no_reason = await _publish(hub, "jz.admin", urgent=True, reason="  ")
    assert codes(no_reason) == ["URGENT_REASON_REQUIRED"]
    too_long = await _publish(hub, "jz.admin", urgent=True, reason="理" * 2001)
    assert codes(too_long) == ["REASON_TOO_LONG"]
    assert await _count(nodes) == count
    reason = "《行政许可法》修订，调整残疾人证核发办理时限"
    urgent = await _publish(hub, "jz.admin", urgent=True, reason=reason)
    assert urgent["errors"] == []
    assert urgent["publication"]["urgent"] is True
    assert urgent["publication"]["reason"] == reason
    assert urgent["publication"]["batch"] == "2026-11"
    assert await _count(nodes) == count + 1


async def test_every_published_version_stays_readable_as_it_was_published(
    hub: OwnHub, nodes: NodeRegistry
) -> None:
    """000 集中公布: after a matter changes and the lists are published again, the
    earlier version still lists it as it was — for anyone, signed in or not."""
    hub.clock.instant = at(2026, 12, 10)
    old = (await _publish(hub, "jz.admin"))["publication"]
    async with nodes[Level.CITY].sessions.begin() as s:
        matter = await s.scalar(select(Matter).order_by(Matter.basic_code).limit(1))
        assert matter is not None
        code, name = matter.basic_code, matter.name
        matter.name = f"{name}（调整）"
    new = (await _publish(hub, "jz.admin", urgent=True, reason="事项名称调整"))["publication"]

    body = await hub.gql(VERSIONS, {"version": old["version"]})  # nobody signed in
    assert "errors" not in body, body
    [then] = body["data"]["catalogueVersions"]
    assert {m["basicCode"]: m["name"] for m in then["matters"]}[code] == name
    body = await hub.gql(VERSIONS, {})
    listed = body["data"]["catalogueVersions"]
    assert [v["version"] for v in listed][:2] == [new["version"], old["version"]]
    assert {m["basicCode"]: m["name"] for m in listed[0]["matters"]}[code] == f"{name}（调整）"
    missing = await hub.gql(VERSIONS, {"version": 999999})
    assert missing["data"]["catalogueVersions"] == []


async def test_only_the_city_admins_publish_the_lists(hub: OwnHub, nodes: NodeRegistry) -> None:
    hub.clock.instant = at(2026, 12, 2)
    count = await _count(nodes)
    for who in ("yuci.admin", "jz.director", "jz.auditor", "resident1"):
        payload = await _publish(hub, who, urgent=True, reason="x")
        assert codes(payload) == ["FORBIDDEN"], who
    body = await hub.gql(PUBLISH, {"input": {"urgent": True, "reason": "x"}})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    assert await _count(nodes) == count
