"""The node map: longest prefix wins among the nodes holding the division's level."""

from __future__ import annotations

import pytest

from levels.common.codes import key_range
from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from levels.common.nodemap import NodeMap, NodeMapError

PER_COUNTY = """
[[nodes]]
id = "jinzhong"
prefixes = ["140700"]

[[nodes]]
id = "yuci"
prefixes = ["140702"]
address = "http://127.0.0.1:8102/"

[[nodes]]
id = "taigu"
prefixes = ["140703"]
"""

MIXED = (
    PER_COUNTY
    + """
[[nodes]]
id = "yuci-101"
prefixes = ["140702101"]
"""
)


def test_embedded_default_routes_by_level_as_before() -> None:
    nodes = NodeMap.embedded()
    assert [n.id for n in nodes] == ["city", "county", "town", "village"]
    assert nodes.owner("140700000000").id == "city"
    assert nodes.owner("140702000000").id == "county"
    assert nodes.owner("140702101000").id == "town"
    assert nodes.owner("140702101201").id == "village"
    assert nodes.single(Level.COUNTY) is nodes["county"]


def test_per_county_map_keeps_each_county_on_its_node() -> None:
    nodes = NodeMap.from_toml(PER_COUNTY)
    assert nodes.owner("140700000000").id == "jinzhong"
    for code in ("140702000000", "140702101000", "140702101201"):
        assert nodes.owner(code).id == "yuci"
    assert nodes.owner("140703100000").id == "taigu"
    assert nodes["yuci"].address == "http://127.0.0.1:8102"
    assert nodes.single(Level.CITY) is nodes["jinzhong"]
    assert nodes.single(Level.COUNTY) is None
    assert [n.id for n in nodes.holding(Level.VILLAGE)] == ["jinzhong", "yuci", "taigu"]
    assert [n.id for n in nodes.holding(Level.VILLAGE, under="140702000000")] == ["yuci"]


def test_mixed_map_hands_one_town_to_a_node_of_its_own() -> None:
    nodes = NodeMap.from_toml(MIXED)
    assert nodes.owner("140702101201").id == "yuci-101"
    assert nodes.owner("140702102201").id == "yuci"
    # a county-wide list asks both nodes; the town's list only its own
    assert [n.id for n in nodes.holding(Level.VILLAGE, under="140702000000")] == [
        "yuci",
        "yuci-101",
    ]
    assert [n.id for n in nodes.holding(Level.VILLAGE, under="140702101000")] == ["yuci-101"]


def test_a_division_no_node_owns_is_not_found() -> None:
    nodes = NodeMap.from_toml(PER_COUNTY)
    with pytest.raises(DomainError) as caught:
        nodes.owner("140800000000")
    assert caught.value.code is ErrorCode.DIVISION_NOT_FOUND
    with pytest.raises(DomainError) as bad:
        nodes.owner("14070")
    assert bad.value.code is ErrorCode.INVALID_DIVISION_CODE


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[[nodes]]\nid='a'\nprefixes=['14']\n[[nodes]]\nid='a'\nprefixes=['15']", "twice"),
        ("[[nodes]]\nid='a'\nprefixes=['14']\n[[nodes]]\nid='b'\nprefixes=['14']", "both own"),
        ("[[nodes]]\nid='a'\nprefixes=['14x']", "bad prefix"),
        ("[[nodes]]\nid='a'\nprefixes=['14']\nlevels=['PROVINCE']", "bad level"),
        ("[[nodes]]\nid='a'\nprefixes=['14']\nlevels=['CITY']", "no node holds"),
        ("[[nodes]]\nid='a'\nprefixes=['14']\naddress='ftp://x'", "address"),
        ("[[nodes]]\nid='a'\nprefixes=['14']\nport=1", "unknown keys"),
        ("nodes = 3", "non-empty"),
        ("[[nodes", "not valid TOML"),
    ],
)
def test_a_bad_node_map_is_refused_with_its_reason(text: str, says: str) -> None:
    with pytest.raises(NodeMapError, match=says):
        NodeMap.from_toml(text)


def test_key_ranges_replace_like_prefix() -> None:
    assert key_range("140702") == ("140702", "140703")
    assert key_range("1409") == ("1409", "141")
    assert key_range("99") == ("99", None)
    lo, hi = key_range("140702")
    inside = ["140702000000", "140702101201", "1407029"]
    outside = ["140701999999", "140703000000", "14070"]
    assert all(lo <= k < hi for k in inside)
    assert not any(lo <= k < hi for k in outside)
