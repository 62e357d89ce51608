"""A node's lists by key range that the hub reads for its loaders, called as the hub
calls them: the children of a batch of divisions (``children``), one statement a
call, the rows the hub's SQL read gives on the same store, in the same order."""

from __future__ import annotations

from typing import Any

import pytest

from auth.hub_tokens import HubKey, HubTokenSigner
from gateway.node_app import create_node_app
from gateway.settings import Settings
from levels.common import service as common_service
from levels.common.clock import FixedClock
from levels.common.errors import DomainError, ErrorCode
from levels.common.models import Division
from levels.common.reads import table
from levels.common.rowcodec import encode_row
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
