"""The ``cases`` filters on days, clocks, overdue flags and the applicant through the
nodes' APIs (the processes of ``tests/support/federation.py``, the hub's own stores for
the nodes left empty): sent to the nodes' lists (``cases``, ``casesOf``) as conditions
kept there, the answers are those of the same queries by SQL over the nodes' stores."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from gateway.demo.accounts import resident_id_number
from gateway.demo.plan import org_code_for
from levels.common.codes import parse_division
from tests.scenarios.desk import Desk
from tests.support.federation import TAIGU, Federation, every_page, sql_desk
from tests.topology.test_remote_reads import calls

LIST = """
query($filter: CaseFilter, $after: String) {
  cases(filter: $filter, first: 3, after: $after) {
    edges { node { number status } }
    pageInfo { hasNextPage endCursor }
  }
}"""

FILTERS: list[dict[str, Any]] = [
    {"submittedFrom": "2026-11-01"},
    {"submittedTo": "2026-11-15"},
    {"submittedFrom": "2026-10-01", "submittedTo": "2026-11-20"},
    {"acceptedFrom": "2026-11-01"},
    {"acceptedTo": "2026-11-30"},
    *({"clockState": colour} for colour in ("GREEN", "YELLOW", "RED", "STOPPED")),
    *({"referralClockState": colour} for colour in ("GREEN", "YELLOW", "RED", "STOPPED")),
    {"preReviewOverdue": True},
    {"preReviewOverdue": False},
    {"pushOverdue": False},
    {"archiveOverdue": False},
    {"applicant": resident_id_number(0)},
    {"applicant": org_code_for(parse_division("140702000000"))},  # nobody applies as it
    {"applicant": resident_id_number(0), "clockState": "GREEN", "level": "COUNTY"},
]


@pytest.fixture(scope="module")
async def by_sql(federation: Federation) -> AsyncIterator[Desk]:
    async with sql_desk(federation) as desk:
        yield desk


async def _all(desk: Desk, who: str, given: dict[str, Any]) -> list[dict[str, Any]]:
    """Every page of the list, with the hub's cursor."""
    return await every_page(desk, who, LIST, "cases", filter=given)


@pytest.mark.parametrize("who", ["resident1", "yuci.auditor", "jz.auditor"])
async def test_the_filters_through_the_nodes_are_the_sql_paths(
    federation: Federation, by_sql: Desk, who: str
) -> None:
    seen = 0
    for given in FILTERS:
        remote = await _all(federation.desk, who, given)
        assert remote == await _all(by_sql, who, given), (who, given)
        seen += bool(remote)
    assert seen >= 5, who  # most filters keep some of the viewer's cases


async def test_a_filtered_page_is_one_call_a_node(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the nodes keep the conditions: a page is each node's one page, none thrown away
    for who in ("resident1", "jz.auditor"):
        with calls(federation, monkeypatch) as counted:
            await federation.desk.run(who, LIST, filter={"clockState": "GREEN"}, after=None)
        assert counted and set(counted.values()) == {1}, (who, counted)


async def test_a_stopped_node_is_named_beside_the_others_cases(
    federation: Federation, by_sql: Desk
) -> None:
    given = {"submittedFrom": "2026-10-01"}
    expected = [
        c for c in await _all(by_sql, "jz.auditor", given) if not c["number"].startswith("140703")
    ]
    await federation.served[TAIGU].stop()

    body = await federation.desk.ask(
        "jz.auditor", LIST.replace("first: 3", "first: 100"), filter=given
    )

    named = {(e["extensions"]["code"], e["extensions"]["node"]) for e in body["errors"]}
    assert named == {("NODE_UNAVAILABLE", TAIGU)}
    assert [e["node"] for e in body["data"]["cases"]["edges"]] == expected
