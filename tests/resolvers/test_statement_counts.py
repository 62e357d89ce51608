"""Statement counts are pinned: a nested query costs the same for 5 or 50 results."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from gateway.app import create_app
from gateway.demo import load_demo
from gateway.nodes import NodeRegistry, count_statements
from levels.audit.models import AuditEvent
from levels.cases.enums import TimerKind
from levels.cases.models import CaseTimer
from levels.common.clock import FixedClock
from levels.common.enums import Level
from levels.notices.models import CaseNotice
from tests.auth.conftest import bearer, signed_in
from tests.conftest import (
    BACKEND,
    DEMO_NOW,
    GraphQLClient,
    client_transport,
    make_registry,
)
from tests.resolvers.conftest import ACCEPT, Waiting
from tests.support import pg

ROUTES = """
query($first: Int) {
  serviceRoutes(divisionCode: "140702101201", first: $first) {
    edges { node {
      matter { name type }
      implementation { implementationCode department { name } materials { name } }
      decidedAt { name division { name } }
      path { name }
      delegation { legalInstrument }
    } }
  }
}"""

IMPLEMENTATIONS = """
query($first: Int) {
  matterImplementations(first: $first, filter: {level: TOWN}) {
    edges { node {
      implementationCode
      matter { name }
      org { name division { name parent { name } } }
      department { name }
      materials { name }
      delegation { allTowns }
    } }
  }
}"""


async def _count(
    gql: GraphQLClient, nodes: NodeRegistry, query: str, first: int
) -> tuple[dict[str, int], int]:
    with count_statements(nodes) as log:
        body = await gql(query, {"first": first})
    assert "errors" not in body, body
    (conn,) = body["data"].values()
    return dict(log), len(conn["edges"])


async def test_service_routes_cost_a_fixed_number_of_statements(
    gql: GraphQLClient, nodes: NodeRegistry
) -> None:
    small, n_small = await _count(gql, nodes, ROUTES, 5)
    large, n_large = await _count(gql, nodes, ROUTES, 50)
    assert n_small == 5 and n_large > 30
    # per node: the chain lookups, then one statement per relation the page reaches
    # (orgs, departments, materials); more results never mean more statements
    assert large == {"city": 6, "county": 7, "town": 5, "village": 5, "identity": 0}
    assert all(small[store] <= large[store] for store in large)
    assert {store: small[store] for store in ("city", "county", "town")} == {
        store: large[store] for store in ("city", "county", "town")
    }


async def test_implementation_lists_cost_a_fixed_number_of_statements(
    gql: GraphQLClient, nodes: NodeRegistry
) -> None:
    small, n_small = await _count(gql, nodes, IMPLEMENTATIONS, 5)
    large, n_large = await _count(gql, nodes, IMPLEMENTATIONS, 50)
    assert n_small == 5 and n_large == 50
    assert small == large


CASES = """
query($first: Int) {
  cases(first: $first, filter: {level: COUNTY}) {
    edges { node {
      number status
      clock { state workingDaysLeft }
      materials { name state licence { typeName status } }
      licences { identifier status uses { caseNumber } }
      timeline { action }
      parts { matterName decision department { name } }
      supervisionCards { color }
      department { name }
      receivedAtWindow { number }
      implementation { implementationCode }
      org { name }
      ratings { rating channel staffId }
      rateable
    } }
  }
}"""


# the county statements of a page of cases, whatever its size: the page, then one per
# relation (materials, licences, timeline, cards, departments, implementations, orgs,
# ratings — which rateable shares)
CASE_PAGE = 9


def _reached(edges: list[dict[str, Any]]) -> int:
    """The county statements a page adds for what its cases hold, not for how many they
    are: the calendar when a clock runs (one statement for its two tables), the parts
    when a joint (联办) case is among them (one statement, with their departments)."""
    clock = any(e["node"]["clock"]["workingDaysLeft"] is not None for e in edges)
    joint = any(e["node"]["parts"] for e in edges)
    return int(clock) + int(joint)


@pytest.fixture(scope="module")
async def demo_alone(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[NodeRegistry, GraphQLClient]]:
    """The demo city as loaded, in stores of its own: which cases a page holds (the
    newest first) must not depend on the cases other tests of the session added."""
    if BACKEND == "postgres":
        await pg.require_services()
    settings, nodes, created = await make_registry(
        tmp_path_factory.mktemp("counts"), f"counts_{uuid.uuid4().hex[:8]}"
    )
    await load_demo(nodes, secret=settings.identity_secret())
    app = create_app(settings, nodes=nodes, clock=FixedClock(DEMO_NOW))
    try:
        async with httpx.AsyncClient(
            transport=client_transport(app), base_url="http://govhub.test"
        ) as http:
            yield nodes, GraphQLClient(http)
    finally:
        await app.state.broker.close()
        await app.state.identity.close()
        await nodes.dispose()
        for name in created:
            await pg.drop_database(name)


async def test_case_lists_cost_a_fixed_number_of_statements(
    demo_alone: tuple[NodeRegistry, GraphQLClient],
) -> None:
    """A supervisor's list of the county's cases, with every relation a case has, on
    the demo alone (cases other tests add — referred up, received at a comprehensive
    window, newer than the demo's joint case — would change which relations a page of
    3 or 15 reaches, not how many statements each costs)."""
    nodes, gql = demo_alone
    token = (await signed_in(gql, "yuci.supervisor", "WEB"))["accessToken"]
    counts = []
    pages = []
    for first in (3, 15, 100):  # 100: every county case of the demo
        with count_statements(nodes) as log:
            body = await gql(CASES, {"first": first}, **bearer(token))
        assert "errors" not in body, body
        pages.append(body["data"]["cases"]["edges"])
        counts.append(dict(log))
    assert [len(p) for p in pages[:2]] == [3, 15] and len(pages[2]) > 15
    small, middle, large = counts
    assert all(small[store] <= middle[store] <= large[store] for store in large)
    # each page: the page, one statement per relation, the calendar and the parts when
    # its cases reach them (the demo's 3 newest have neither, its 15 newest both)
    assert [c["county"] for c in counts] == [CASE_PAGE + _reached(p) for p in pages], counts
    assert middle["county"] == large["county"]
    # the library answers the materials' licences (when a page's materials name one)
    # and the licences' uses, one statement each;
    # the token needs no identity read; the demo refers no case up from a town or a
    # village (one would add a statement in each store it came through)
    assert large == {"city": 2, "county": 11, "town": 0, "village": 0, "identity": 0}, large


# acceptCase, in the county store's one transaction: the case read locked with its item
# (its holder and the policy check; the due timers and the step find both held and do
# not read them again), its due timers locked, the calendar (one statement, which the
# answer's clock reuses), the ended timers cancelled (one UPDATE), the case UPDATE (a
# case taken up has no special procedure to read for its clock), the acceptance notice
# (its number, the org's name and the signing key in one statement, one INSERT sealed),
# then the audit chain (on PostgreSQL the head locked, then the event and the head's
# move in one statement; on SQLite a write to the head first, the head read, the
# event, the head moved)
ACCEPT_STATEMENTS = {"postgres": 9, "sqlite": 11}


async def test_accepting_a_case_costs_a_fixed_number_of_statements(
    gql: GraphQLClient, nodes: NodeRegistry, waiting: Waiting, backend: str
) -> None:
    first, number, _ = waiting.numbers
    staff = bearer(waiting.receptionist)
    assert (await gql(ACCEPT, {"number": first}, **staff))["data"]["acceptCase"]["errors"] == []
    with count_statements(nodes) as log:
        body = await gql(ACCEPT, {"number": number}, **staff)
    payload = body["data"]["acceptCase"]
    assert payload["errors"] == [], body
    assert (payload["case"]["status"], payload["case"]["version"]) == ("ACCEPTED", 2)
    assert payload["case"]["clock"]["workingDaysLeft"] == 10
    assert dict(log) == {
        "city": 0,
        "county": ACCEPT_STATEMENTS[backend],
        "town": 0,
        "village": 0,
        "identity": 0,
    }
    # what the statements kept: the audit event, the timer cancelled, the notice sealed
    async with nodes[Level.COUNTY].sessions() as session:
        actions = await session.scalars(
            select(AuditEvent.action).where(AuditEvent.case_number == number)
        )
        timers = (
            await session.scalars(select(CaseTimer).where(CaseTimer.case_number == number))
        ).all()
        notices = (
            await session.scalars(select(CaseNotice).where(CaseNotice.case_number == number))
        ).all()
    assert "ACCEPT" in set(actions)
    deemed = [t for t in timers if t.kind is TimerKind.DEEMED_ACCEPTANCE]
    assert deemed and all(t.cancelled_at is not None and t.fired_at is None for t in deemed)
    acceptance = [n for n in notices if n.kind.value == "ACCEPTANCE"]
    assert len(acceptance) == 1 and acceptance[0].token and acceptance[0].kid
