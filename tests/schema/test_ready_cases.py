"""A page of cases makes its cases' clocks at once (``schema/ready_cases.py``): the same
clock a case answers alone, its node's calendar read once, no awaitable per case."""

from __future__ import annotations

from gateway.nodes import NodeRegistry, count_statements
from tests.auth.conftest import bearer, signed_in
from tests.conftest import GraphQLClient

CLOCK = "clock { state acceptedOn dueOn workingDaysLeft promisedLimitDays provisional }"
PAGE = "query { cases(first: 20) { edges { node { number " + CLOCK + " } } } }"
ONE = "query($n: String!) { case(number: $n) { number " + CLOCK + " } }"


async def test_a_page_of_cases_answers_each_clock_as_the_case_alone(
    gql: GraphQLClient, nodes: NodeRegistry, awaitables: list[str]
) -> None:
    token = (await signed_in(gql, "resident1"))["accessToken"]
    with count_statements(nodes) as statements:
        page = await gql(PAGE, **bearer(token))
    assert "errors" not in page, page
    cases = [e["node"] for e in page["data"]["cases"]["edges"]]
    assert len(cases) > 3
    # some clocks run (working days counted on the calendar), some stopped
    assert any(c["clock"]["workingDaysLeft"] is not None for c in cases)
    assert any(c["clock"]["state"] == "STOPPED" for c in cases)
    # no clock completed as an awaitable: only the page's own field
    assert [t for t in awaitables if "CaseClock" in t] == []
    # each node's calendar once at most, beside its page of cases
    assert all(n <= 2 for n in statements.values()), statements
    for case in cases:
        alone = await gql(ONE, {"n": case["number"]}, **bearer(token))
        assert "errors" not in alone, alone
        assert alone["data"]["case"] == case
