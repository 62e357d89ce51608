"""The node map: longest prefix wins among the nodes holding the division's level; a
row of another level about a division is at the node owning its ancestor there."""

from __future__ import annotations

import pytest

from levels.common.codes import key_range, parse_division
from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from levels.common.nodemap import NODE_ID_MAX, NodeMap, NodeMapError

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


# 修文村, a village of 修文镇, a town of 榆次区
XIUWEN_VILLAGE = "140702101201"


def test_a_row_of_an_upper_level_is_at_the_node_of_the_divisions_ancestor() -> None:
    """A city-level row about a village of 榆次区 is the city node's, although 榆次区's
    node (no ``levels``: it may hold any) has the longer prefix of the village's code."""
    nodes = NodeMap.from_toml(PER_COUNTY)
    assert nodes.owner_or_none(XIUWEN_VILLAGE, Level.CITY) is nodes["jinzhong"]
    assert nodes.owner_or_none(XIUWEN_VILLAGE, Level.COUNTY) is nodes["yuci"]
    assert nodes.owner_or_none(XIUWEN_VILLAGE, Level.TOWN) is nodes["yuci"]
    assert nodes.owner_or_none(XIUWEN_VILLAGE) is nodes["yuci"]
    # the city node of the per-county demo holds the city level only: the same
    federated = NodeMap.from_toml(PER_COUNTY.replace('["140700"]', '["140700"]\nlevels = ["CITY"]'))
    assert federated.owner_or_none(XIUWEN_VILLAGE, Level.CITY) is federated["jinzhong"]


def test_in_the_mixed_map_each_level_goes_to_its_ancestors_node() -> None:
    nodes = NodeMap.from_toml(MIXED)
    at = {lv: nodes.owner_or_none(XIUWEN_VILLAGE, lv) for lv in Level}
    assert {lv.value: n.id for lv, n in at.items() if n is not None} == {
        "CITY": "jinzhong",
        "COUNTY": "yuci",  # 榆次区's county rows stay on its node
        "TOWN": "yuci-101",
        "VILLAGE": "yuci-101",
    }
    assert nodes.owner_or_none("140702101000", Level.COUNTY) is nodes["yuci"]
    assert nodes.owner_or_none("140702102201", Level.TOWN) is nodes["yuci"]
    # a division above the level: the node covering its range there
    assert nodes.owner_or_none("140702000000", Level.TOWN) is nodes["yuci"]
    assert nodes.owner_or_none("140702000000", Level.VILLAGE) is nodes["yuci"]
    # not a division code: no node
    assert nodes.owner_or_none("14070210", Level.TOWN) is None
    assert nodes.owner_or_none("140800000000", Level.COUNTY) is None


def test_the_embedded_default_keeps_each_level_on_its_node() -> None:
    nodes = NodeMap.embedded()
    for level in Level:
        assert nodes.owner_or_none(XIUWEN_VILLAGE, level) is nodes[level.value.lower()]
    assert nodes.owner_or_none("140702000000", Level.VILLAGE) is nodes["village"]


def test_a_division_at_a_level_is_itself_or_its_ancestor() -> None:
    village = parse_division(XIUWEN_VILLAGE)
    assert [(d.code, d.level) for d in (village.at(lv) for lv in Level) if d] == [
        ("140700000000", Level.CITY),
        ("140702000000", Level.COUNTY),
        ("140702101000", Level.TOWN),
        (XIUWEN_VILLAGE, Level.VILLAGE),
    ]
    assert parse_division("140702000000").at(Level.TOWN) is None


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


def _one_node(node_id: str) -> str:
    return f"[[nodes]]\nid = '{node_id}'\nprefixes = ['']"


def test_node_ids_of_up_to_forty_ascii_characters_are_accepted() -> None:
    for node_id in ("county-140702-a", "town-140702101", "Yuci_2", "c" * NODE_ID_MAX):
        assert [n.id for n in NodeMap.from_toml(_one_node(node_id))] == [node_id]


@pytest.mark.parametrize(
    ("node_id", "says"),
    [
        ("c" * (NODE_ID_MAX + 1), "41 characters, longer than 40"),
        ("county-140702-" + "a" * 30, "44 characters, longer than 40"),
        ("榆次", "bad node id"),
        ("yuci.101", "bad node id"),
        ("yuci 101", "bad node id"),
        ("-yuci", "bad node id"),
        ("", "bad node id"),
    ],
)
def test_a_node_id_too_long_or_of_other_characters_is_refused(node_id: str, says: str) -> None:
    with pytest.raises(NodeMapError, match=says):
        NodeMap.from_toml(_one_node(node_id))


def test_key_ranges_replace_like_prefix() -> None:
    assert key_range("140702") == ("140702", "140703")
    assert key_range("1409") == ("1409", "141")
    assert key_range("99") == ("99", None)
    lo, hi = key_range("140702")
    inside = ["140702000000", "140702101201", "1407029"]
    outside = ["140701999999", "140703000000", "14070"]
    assert all(lo <= k < hi for k in inside)
    assert not any(lo <= k < hi for k in outside)
