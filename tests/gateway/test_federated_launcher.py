"""``make run-federated``'s node map: the city node and a node per county of the demo
city, each at an address of its own on loopback, which the hub reads through."""

from __future__ import annotations

from gateway.demo.federated import node_ids, node_map
from levels.common.enums import Level
from levels.common.nodemap import NodeMap


def test_the_map_gives_every_county_a_node_at_its_own_address() -> None:
    ports = {node_id: 9100 + i for i, node_id in enumerate(node_ids())}

    nodes = NodeMap.from_toml(node_map(ports))

    assert nodes.owner("140702000000").id == "county-140702"
    assert nodes.owner("140703101000").id == "county-140703"
    assert nodes.owner("140700000000").id == "jinzhong"
    assert [n.id for n in nodes.holding(Level.CITY)] == ["jinzhong"]
    # a city-level row about a village of 榆次区 (the library's copy of a licence of
    # 修文村's, a case referred up to the city): the city node, not 榆次区's
    assert nodes.owner_or_none("140702101201", Level.CITY) is nodes["jinzhong"]
    assert nodes.owner_or_none("140702101201", Level.COUNTY) is nodes["county-140702"]
    addresses = [n.address for n in nodes]
    assert len(set(addresses)) == len(addresses) == 12
    assert all(
        a.startswith("http://127.0.0.1:") and not n.in_process
        for a, n in zip(addresses, nodes, strict=True)
    )
