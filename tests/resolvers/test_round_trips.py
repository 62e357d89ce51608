"""On PostgreSQL a read costs its statement's round trip and nothing more: no pre-ping
on checkout, no BEGIN or ROLLBACK around a request's reads (autocommit), and the
prepared statement is reused. An auditor's fan-out over the four level stores is four
round trips, an applicant's "my cases" one per statement (plus, the first time a statement
runs on a pooled connection, its prepare)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import asyncpg
import asyncpg.connection
import asyncpg.prepared_stmt
import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import make_url

from gateway.nodes import NodeRegistry, count_statements
from levels.common.enums import Level
from levels.common.models import Division
from levels.common.reads import rows
from tests.auth.conftest import bearer, signed_in
from tests.conftest import BACKEND, GraphQLClient
from tests.resolvers.conftest import ACCEPT, Waiting
from tests.resolvers.test_statement_counts import ACCEPT_STATEMENTS
from tests.support import pg

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(BACKEND != "postgres", reason="asyncpg round trips: PostgreSQL pass"),
]

AUDITOR_CASES = """
query($first: Int!) {
  cases(first: $first) { edges { node { number status level matterName submittedAt } } }
}"""
MY_CASES = """
query($first: Int!) {
  cases(first: $first) {
    edges { node { number status matterName clock { state dueOn workingDaysLeft } } }
  }
}"""

COUNTY = "140702000000"  # 榆次区, held by the county store

# every asyncpg call that goes to the server and back (a simple query such as BEGIN,
# ROLLBACK or a ping; a prepare; an execution of a prepared statement)
CALLS = [
    (asyncpg.connection.Connection, "execute"),
    (asyncpg.connection.Connection, "fetch"),
    (asyncpg.connection.Connection, "fetchrow"),
    (asyncpg.connection.Connection, "fetchval"),
    (asyncpg.connection.Connection, "prepare"),
    (asyncpg.prepared_stmt.PreparedStatement, "fetch"),
    (asyncpg.prepared_stmt.PreparedStatement, "fetchrow"),
    (asyncpg.prepared_stmt.PreparedStatement, "executemany"),
]


@pytest.fixture
def round_trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    seen: list[str] = []
    for owner, name in CALLS:
        original = getattr(owner, name)

        def counting(*args: Any, _original: Any = original, _name: str = name, **kw: Any) -> Any:
            seen.append(_name)
            return _original(*args, **kw)

        monkeypatch.setattr(owner, name, counting)
    yield seen


async def _trips(
    gql: GraphQLClient, nodes: NodeRegistry, seen: list[str], query: str, token: str
) -> tuple[int, int]:
    await gql(query, {"first": 20}, **bearer(token))  # statements prepared once
    seen.clear()
    with count_statements(nodes) as log:
        body = await gql(query, {"first": 20}, **bearer(token))
    assert "errors" not in body, body
    assert body["data"]["cases"]["edges"]
    # asyncpg keeps prepared statements per connection: a read that lands on another
    # pooled connection than the warm-up's prepares once there (at most one per
    # statement); every other call is the statement itself, with no ping, BEGIN or
    # ROLLBACK around it
    statements = sum(log.values())
    prepares = seen.count("prepare")
    assert prepares <= statements, seen
    return len(seen) - prepares, statements


async def test_the_auditors_fan_out_is_one_round_trip_per_store(
    gql: GraphQLClient, nodes: NodeRegistry, round_trips: list[str]
) -> None:
    token = (await signed_in(gql, "jz.auditor", "WEB"))["accessToken"]
    trips, statements = await _trips(gql, nodes, round_trips, AUDITOR_CASES, token)
    assert (trips, statements) == (4, 4), round_trips


async def test_my_cases_cost_a_round_trip_per_statement(
    gql: GraphQLClient, nodes: NodeRegistry, round_trips: list[str]
) -> None:
    token = (await signed_in(gql, "resident1", "WEB"))["accessToken"]
    trips, statements = await _trips(gql, nodes, round_trips, MY_CASES, token)
    # a page from each level store, then the county's calendar for the clocks (its days
    # and imported years in one statement)
    assert (trips, statements) == (5, 5), round_trips


ROUTES = """
query($first: Int) {
  serviceRoutes(divisionCode: "140702101201", first: $first) {
    edges { node {
      matter { basicCode name type }
      implementation { implementationCode materials { name form } }
      decidedAt { name level }
      path { name }
      delegation { legalInstrument }
    } }
  }
}"""
# the tables a village station's page of 50 routes reads, per level store: items, their
# materials and the chain's orgs everywhere; the catalogue (city); delegations and their
# target towns (county); the village's division (that it exists).
ROUTE_TABLES = {"city": 4, "county": 5, "town": 3, "village": 4, "identity": 0}


async def test_service_routes_cost_one_round_trip_per_table_and_store(
    gql: GraphQLClient, nodes: NodeRegistry, round_trips: list[str]
) -> None:
    """A key list is one SQL text whatever its length (``= ANY``): routes pages of 5
    and of 20 have prepared the statements a page of 50 runs: its round trips are its
    statements, one per table and store, whatever the lists' lengths."""
    for first in (5, 20):
        body = await gql(ROUTES, {"first": first})
        assert "errors" not in body, body
    round_trips.clear()
    with count_statements(nodes) as log:
        body = await gql(ROUTES, {"first": 50})
    assert "errors" not in body, body
    assert len(body["data"]["serviceRoutes"]["edges"]) > 30
    assert dict(log) == ROUTE_TABLES
    prepares = round_trips.count("prepare")
    assert len(round_trips) - prepares == sum(ROUTE_TABLES.values()), round_trips


async def test_a_connection_the_server_dropped_is_replaced_without_a_ping(
    gql: GraphQLClient, nodes: NodeRegistry
) -> None:
    """No pre-ping: the first read on a dropped connection fails, the pool is renewed
    and the read tried once more, so the answer is whole (no NODE_UNAVAILABLE)."""
    token = (await signed_in(gql, "jz.auditor", "WEB"))["accessToken"]
    county = "cases(first: $first, filter: {level: COUNTY})"
    query = AUDITOR_CASES.replace("cases(first: $first)", county)
    assert "errors" not in await gql(query, {"first": 5}, **bearer(token))
    database = make_url(nodes[Level.COUNTY].url).database
    admin = await asyncpg.connect(pg.PG)
    try:
        dropped = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        )
    finally:
        await admin.close()
    assert dropped >= 1
    body = await gql(query, {"first": 5}, **bearer(token))
    assert "errors" not in body, body
    assert body["data"]["cases"]["edges"]


async def test_accepting_a_case_is_one_transaction_of_round_trips(
    gql: GraphQLClient, nodes: NodeRegistry, round_trips: list[str], waiting: Waiting
) -> None:
    """acceptCase opens one transaction and reads the case in it: BEGIN, its statements
    (each prepared at most once per pooled connection) and COMMIT — no transaction of
    its own to find the case's holder, no second one for the answer's calendar."""
    staff = bearer(waiting.receptionist)
    for number in waiting.numbers[:2]:  # the statements prepared on the pooled connections
        body = await gql(ACCEPT, {"number": number}, **staff)
        assert body["data"]["acceptCase"]["errors"] == [], body
    round_trips.clear()
    with count_statements(nodes) as log:
        body = await gql(ACCEPT, {"number": waiting.numbers[2]}, **staff)
    assert body["data"]["acceptCase"]["errors"] == [], body
    statements = sum(log.values())
    assert statements == ACCEPT_STATEMENTS["postgres"]
    simple = round_trips.count("execute")  # BEGIN and COMMIT
    executed = len(round_trips) - simple - round_trips.count("prepare")
    assert (simple, executed) == (2, statements), round_trips


async def test_accepting_a_case_holds_its_divisions_audit_head_for_its_last_statements(
    gql: GraphQLClient, nodes: NodeRegistry, waiting: Waiting
) -> None:
    """Every write of a division waits for its audit head: acceptCase locks it by its
    second-to-last statement and writes the event and the head's move by its last,
    then commits — the case, its timers and its notice are written before."""
    staff = bearer(waiting.receptionist)
    engine = nodes[Level.COUNTY].engine.sync_engine
    seen: list[str] = []

    def statement(*args: Any) -> None:
        seen.append(" ".join(str(args[2]).split()))

    event.listen(engine, "before_cursor_execute", statement)
    try:
        body = await gql(ACCEPT, {"number": waiting.numbers[0]}, **staff)
    finally:
        event.remove(engine, "before_cursor_execute", statement)
    assert body["data"]["acceptCase"]["errors"] == [], body
    assert len(seen) == ACCEPT_STATEMENTS["postgres"]
    heads = [i for i, s in enumerate(seen) if "audit_heads" in s]
    assert heads == [len(seen) - 2, len(seen) - 1], seen
    assert seen[-2].startswith("SELECT") and seen[-2].endswith("FOR UPDATE"), seen
    assert "INSERT INTO audit_events" in seen[-1], seen
    assert any(s.startswith("INSERT INTO case_notices") for s in seen[:-2]), seen


async def test_a_core_read_holds_its_connection_for_its_statement_only(nodes: NodeRegistry) -> None:
    """A read session's Core read takes a pooled connection and gives it back at once;
    the session then has nothing to close. Its ORM methods work as on any session,
    on a connection of the session's own until it closes."""
    node = nodes[Level.COUNTY]
    factory = nodes.reads[node.id]
    assert factory is not None
    pool: Any = node.engine.sync_engine.pool
    before = pool.checkedout()
    session = factory()
    found = await rows(session, select(Division.code).where(Division.code == COUNTY))
    assert [r.code for r in found] == [COUNTY]
    assert pool.checkedout() == before
    assert session.untouched
    division = await session.get(Division, COUNTY)
    assert division is not None and division.code == COUNTY
    assert not session.untouched and pool.checkedout() == before + 1
    # while the ORM holds a connection, a Core read runs on it (one connection a node)
    assert await rows(session, select(Division.code).where(Division.code == COUNTY))
    assert pool.checkedout() == before + 1
    await session.close()
    assert pool.checkedout() == before and session.untouched
