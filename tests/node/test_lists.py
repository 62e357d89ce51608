"""What a node serves the hub's loaders that were read by SQL, called as the hub calls
them: the children of a batch of divisions (``children``, a key range on the code),
implementation items by code (``_entities``) and the catalogue's records of orgs
(``orgRecords``: the items of divisions, of matters, their materials); one statement
a call, the rows the hub's SQL read gives on the same store, in the same order."""

from __future__ import annotations

from typing import Any

import pytest

from auth.hub_tokens import HubKey, HubTokenSigner
from gateway.node_app import create_node_app
from gateway.settings import Settings
from levels.common import reads
from levels.common import service as common_service
from levels.common.clock import FixedClock
from levels.common.errors import DomainError, ErrorCode
from levels.common.models import Division, ImplementationMaterial, MatterImplementation
from levels.common.reads import table
from levels.common.rowcodec import encode_row
from levels.node.records import OrgRecordKind
from resolvers import remote
from resolvers.nodeclient import NodeClient
from tests.node.conftest import MakeClient, statements
from tests.node.test_api import per_county_map, store_session


def _columns(found: Any) -> list[Any]:
    return [encode_row(table(Division), d) for d in found]


async def test_children_of_a_batch_of_divisions_one_statement(
    node_client: MakeClient, node_apps: dict[str, Any]
) -> None:
    counties = ["140702000000", "140703000000"]
    async with store_session(node_apps["town"]) as session:
        expected = await common_service.divisions_by_parent(counties, session=session)
    assert len({d.parent_code for d in expected}) == 2
    town = node_client("town")
    with statements(node_apps["town"]) as counted:
        found = await remote.children_of(town, counties)
    assert counted["n"] == 1
    assert _columns(found) == _columns(expected)
    with statements(node_apps["town"]) as counted:
        assert await remote.children_of(town, []) == []
    assert counted["n"] == 0


async def test_children_of_a_division_not_the_nodes_are_refused(
    settings: Settings, hub_key: HubKey, signer: HubTokenSigner, clock: FixedClock
) -> None:
    mapped = settings.model_copy(update={"nodes": per_county_map(settings)})
    app = create_node_app(mapped, "yuci", hub_keys=hub_key.jwks(), clock=clock)
    client = NodeClient.in_process("yuci", app, signer=signer)
    try:
        # 榆次区's node: 太谷区 is none of its; the city is partly its (榆次区)
        with statements(app) as counted, pytest.raises(DomainError) as refused:
            await remote.children_of(client, ["140702000000", "140703000000"])
        assert refused.value.code is ErrorCode.DIVISION_NOT_OWNED
        assert refused.value.field == ["parents", "1"]
        assert counted["n"] == 0  # refused before any read
        await remote.children_of(client, ["140700000000", "140702000000"])
    finally:
        await client.close()
        await app.state.dispose()


async def test_the_catalogue_of_orgs_one_statement_a_call(
    node_client: MakeClient, node_apps: dict[str, Any]
) -> None:
    async with store_session(node_apps["county"]) as session:
        items = list(
            await reads.implementations_by_division(
                ["140702000000", "140703000000"], session=session
            )
        )
        codes = [i.code for i in items[:3]]
        basic = sorted({i.basic_code for i in items[:3]})
        of_matter = await reads.implementations_by_basic_code(basic, session=session)
        materials = await reads.materials_by_implementation(codes, session=session)
    assert items and of_matter and materials
    county = node_client("county")
    with statements(node_apps["county"]) as counted:
        by_code = await remote.implementations_by_code(county, codes)
        of_division = await remote.org_records(
            county, OrgRecordKind.IMPLEMENTATIONS_OF_DIVISION, ["140702000000", "140703000000"]
        )
        matters = await remote.org_records(county, OrgRecordKind.IMPLEMENTATIONS_OF_MATTER, basic)
        found = await remote.org_records(county, OrgRecordKind.MATERIALS_OF_IMPLEMENTATION, codes)
    assert counted["n"] == 4  # one a call
    impl = table(MatterImplementation)
    assert [encode_row(impl, i) for i in by_code] == [encode_row(impl, i) for i in items[:3]]
    assert [encode_row(impl, i) for i in of_division] == [encode_row(impl, i) for i in items]
    assert [encode_row(impl, i) for i in matters] == [encode_row(impl, i) for i in of_matter]
    material = table(ImplementationMaterial)
    assert [encode_row(material, m) for m in found] == [encode_row(material, m) for m in materials]
