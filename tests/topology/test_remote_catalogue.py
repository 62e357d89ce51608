"""The catalogue's publication through the node API: with the city node a process of
its own at an address, the city admin's ``publishCatalogue`` goes through the hub to
that node (``publishCatalogue``), after the hub's permission check on the city the map
names: the node's store has the new version and every matter names it; the hub's own
store for the city stays empty. A node's typed refusal comes back as the same error;
a node that does not answer is NODE_UNAVAILABLE naming it, and nothing is written."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from levels.city.models import CataloguePublication, Matter
from levels.common.errors import DomainError, ErrorCode
from resolvers import nodewrites
from tests.scenarios.test_catalogue_publication import PUBLISH
from tests.support.federation import CITY, Federation, count_rows
from tests.support.outages import assert_unavailable
from tests.topology.test_remote_reads import calls

ADMIN = "jz.admin"
REASON = "《行政许可法》修订，调整残疾人证核发办理时限"


async def _publish(federation: Federation, who: str, **given: Any) -> dict[str, Any]:
    data = await federation.desk.run(who, PUBLISH, input=given)
    payload: dict[str, Any] = data["publishCatalogue"]
    return payload


def _codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


async def test_the_catalogue_is_published_by_the_city_node(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = await count_rows(federation.stores, CataloguePublication, CITY)
    assert await count_rows(federation.hub, CataloguePublication, CITY) == 0

    # November: a regular publication is the node's refusal, nothing written
    refused = await _publish(federation, ADMIN)
    assert _codes(refused) == ["OUTSIDE_PUBLICATION_MONTHS"]
    assert refused["errors"][0]["field"] == ["input", "urgent"]
    assert await count_rows(federation.stores, CataloguePublication, CITY) == before

    with calls(federation, monkeypatch) as publishing:
        urgent = await _publish(federation, ADMIN, urgent=True, reason=REASON)

    assert urgent["errors"] == [], urgent
    published = urgent["publication"]
    assert (published["urgent"], published["reason"], published["batch"]) == (
        True,
        REASON,
        "2026-11",
    )
    assert publishing == Counter({(CITY, "PublishCatalogue", None): 1})
    assert await count_rows(federation.stores, CataloguePublication, CITY) == before + 1
    async with federation.stores[CITY].sessions() as session:
        versions = set(await session.scalars(select(Matter.published_version)))
    assert versions == {published["version"]}
    assert published["matterCount"] == await count_rows(federation.stores, Matter, CITY) > 0
    for model in (CataloguePublication, Matter):
        assert await count_rows(federation.hub, model, CITY) == 0, model


async def test_who_may_not_publish_is_refused_by_the_hub(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    with calls(federation, monkeypatch) as asked:
        refused = await _publish(federation, "yuci.admin", urgent=True, reason=REASON)
    assert _codes(refused) == ["FORBIDDEN"] and refused["publication"] is None
    assert asked == Counter()  # the node is not asked


async def test_a_publication_whose_answer_does_not_come_is_named(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = await count_rows(federation.stores, CataloguePublication, CITY)

    async def no_answer(*_args: Any, **_kwargs: Any) -> dict[str, Any]:
        raise DomainError(ErrorCode.NODE_UNAVAILABLE, detail=f"node {CITY}: no answer")

    monkeypatch.setattr(nodewrites, "publish_catalogue", no_answer)
    answer = await federation.desk.ask(ADMIN, PUBLISH, input={"urgent": True, "reason": REASON})

    assert_unavailable(answer, CITY)
    assert await count_rows(federation.stores, CataloguePublication, CITY) == before


async def test_a_stopped_node_is_named_and_nothing_is_written(federation: Federation) -> None:
    before = await count_rows(federation.stores, CataloguePublication, CITY)
    await federation.served[CITY].stop()

    answer = await federation.desk.ask(ADMIN, PUBLISH, input={"urgent": True, "reason": REASON})

    assert_unavailable(answer, CITY)
    assert await count_rows(federation.stores, CataloguePublication, CITY) == before
    assert await count_rows(federation.hub, CataloguePublication, CITY) == 0
