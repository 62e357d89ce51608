"""The kit and an issuer's status list by SQL (the embedded default) when a store does
not answer: the kit leaves its issuers' lists out and names its level and node; the
issuer's ``/licences/status`` is the same NodeUnavailable (503 at the route) as a node
at an address that does not answer."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.settings import Settings
from levels.common.clock import FixedClock
from levels.common.enums import Level
from levels.licences.models import ELicence
from resolvers.fanout import NodeUnavailable
from resolvers.licensing import Licensing
from resolvers.registry import NodeRegistry
from tests.support.outages import store_down


async def test_a_store_that_does_not_answer(
    nodes: NodeRegistry, settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    async with nodes[Level.TOWN].sessions() as session:
        org = await session.scalar(
            select(ELicence.issuer_org_code).where(ELicence.issuer_level == Level.TOWN).limit(1)
        )
    assert org is not None, "the demo's towns issue licences"
    secret = settings.identity_secret()
    every = await Licensing(nodes, clock, secret=secret, status_ttl_seconds=60).kit()
    assert org in every["statusLists"] and every["unavailableNodes"] == []

    async with store_down(nodes, Level.TOWN, tmp_path) as away:
        licensing = Licensing(away, clock, secret=secret, status_ttl_seconds=60)
        kit = await licensing.kit()
        with pytest.raises(NodeUnavailable) as down:
            await licensing.status_list(org, clock.now())

    assert (kit["unavailableLevels"], kit["unavailableNodes"]) == (["TOWN"], [away[Level.TOWN].id])
    assert org not in kit["statusLists"]
    # the other stores' issuers kept: the county's
    async with nodes[Level.COUNTY].sessions() as session:
        county = set(
            await session.scalars(
                select(ELicence.issuer_org_code).where(ELicence.issuer_level == Level.COUNTY)
            )
        )
    assert county and county <= set(kit["statusLists"])
    assert down.value.node_id == away[Level.TOWN].id
