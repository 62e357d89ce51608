"""Lists the hub reads through the nodes' APIs (the processes of
``tests/support/federation.py``, the hub's own stores for the nodes left empty),
compared with the same queries answered by SQL over the nodes' own stores: the
children of a division, and the orgs, departments and windows of an org known by its
credit code (asked of the one node its code's area names)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.scenarios.desk import Desk
from tests.support.federation import CITY, TAIGU, YUCI, Federation, sql_desk
from tests.topology.test_remote_reads import calls

CHILDREN = """
query($code: String!) {
  division(code: $code) {
    children(first: 100) {
      edges { node { code name level children(first: 100) { edges { node { code name } } } } }
      pageInfo { hasNextPage }
    }
  }
}"""

ORGS = """
query($code: String!) {
  division(code: $code) {
    serviceOrg { code departments { id name org { code name } } windows { id name org { code } } }
  }
}"""


@pytest.fixture(scope="module")
async def by_sql(federation: Federation) -> AsyncIterator[Desk]:
    async with sql_desk(federation) as desk:
        yield desk


def _codes(data: dict[str, Any]) -> list[str]:
    return [e["node"]["code"] for e in data["division"]["children"]["edges"]]


async def test_children_of_a_division_are_the_sql_paths(
    federation: Federation, by_sql: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    for who, code, nodes in (
        # the counties (the city node's and the two), then the towns of each
        ("jz.auditor", "140700000000", {CITY, YUCI, TAIGU}),
        ("yuci.auditor", "140702000000", {YUCI}),  # 榆次区's towns, and their villages
        ("jz.auditor", "140703000000", {TAIGU}),
    ):
        with calls(federation, monkeypatch) as counted:
            remote = await federation.desk.run(who, CHILDREN, code=code)
        assert remote == await by_sql.run(who, CHILDREN, code=code), code
        assert _codes(remote), code
        # one call per node holding a level of the tree under the division, for the
        # whole batch of parents of that level: two levels, two calls
        asked = {n: k for (n, op, _), k in counted.items() if op == "Children"}
        assert asked == dict.fromkeys(nodes, 2), (code, counted)
    counties = _codes(await federation.desk.run("jz.auditor", CHILDREN, code="140700000000"))
    assert {"140702000000", "140703000000"} < set(counties)


async def test_an_orgs_departments_and_windows_ask_the_node_of_its_credit_code(
    federation: Federation, by_sql: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    for who, code in (
        ("yuci.auditor", "140702000000"),
        ("jz.auditor", "140700000000"),
        ("jz.auditor", "140703000000"),
    ):
        with calls(federation, monkeypatch) as counted:
            remote = await federation.desk.run(who, ORGS, code=code)
        assert remote == await by_sql.run(who, ORGS, code=code), code
        assert remote["division"]["serviceOrg"]["departments"], code
        owner = {"140702000000": YUCI, "140703000000": TAIGU}.get(code, CITY)
        # the division, its org; the org's departments and windows, the departments'
        # org: every call at the node the credit code names
        assert {n for n, _, _ in counted} == {owner}, counted
        assert sum(counted.values()) == 5, counted


async def test_a_stopped_node_leaves_the_others_children_and_is_named(
    federation: Federation, by_sql: Desk
) -> None:
    expected = _codes(await by_sql.run("jz.auditor", CHILDREN, code="140700000000"))
    await federation.served[TAIGU].stop()

    body = await federation.desk.ask("jz.auditor", CHILDREN, code="140700000000")

    listed = _codes(body["data"])
    assert listed == [c for c in expected if c != "140703000000"]
    named = {(e["extensions"]["code"], e["extensions"]["node"]) for e in body["errors"]}
    assert named == {("NODE_UNAVAILABLE", TAIGU)}
