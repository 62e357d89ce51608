"""Cross-level messages over HTTP: staff and auditors see those of their jurisdiction
from every store's outbox, nobody else does; an admin or supervisor sends a FAILED one
again, and a store that is down leaves the rest of the list and an error naming it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from gateway.app import create_app
from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.audit.models import AuditEvent
from levels.common.clock import FixedClock
from levels.common.enums import Level
from levels.common.store import create_store_engine
from levels.outbox.models import MessageState, OutboxMessage
from levels.outbox.service import RETRIED_ACTION, enqueue
from tests.auth.conftest import bearer, signed_in
from tests.conftest import BACKEND, DEMO_NOW, GraphQLClient, client_transport
from tests.support import pg

TOPIC = "test.api-only"  # no handler: these messages are only looked at
YUCI_CASE = "140702101201-20261120-00901"  # received at 修文村, in 榆次区
TAIGU_CASE = "140703000000-20261120-00901"  # received in 太谷区
LIST = """
query($filter: OutboxMessageFilter, $first: Int, $after: String) {
  outboxMessages(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id topic sourceLevel targetLevel caseNumber divisionCode state
                          attempts lastError createdAt deliveredAt acknowledgedAt } }
    pageInfo { hasNextPage endCursor }
  }
}"""
RETRY = """
mutation($id: ID!) {
  retryMessage(input: {id: $id}) { message { id state attempts lastError } errors { code field } }
}"""


@pytest.fixture(scope="module")
async def sent(nodes: NodeRegistry) -> AsyncIterator[dict[str, str]]:
    """Messages of every state in the demo stores, none of them due (no relay of
    another test takes them up); removed afterwards."""
    later = DEMO_NOW + dt.timedelta(days=365 * 50)
    made: dict[str, tuple[Level, str]] = {}

    async def make(
        label: str, source: Level, target: Level, case: str, state: MessageState, at: int
    ) -> None:
        async with nodes[source].sessions.begin() as session:
            message = await enqueue(
                session,
                topic=TOPIC,
                source=source,
                target=target,
                payload={"label": label},
                now=DEMO_NOW + dt.timedelta(minutes=at),
                case_number=case,
            )
            message.state = state
            message.next_attempt_at = later
            if state is MessageState.FAILED:
                message.attempts, message.last_error = 8, "RuntimeError: it broke"
            if state is MessageState.ACKNOWLEDGED:
                message.delivered_at = message.acknowledged_at = message.created_at
        made[label] = (source, message.id)

    await make("referred", Level.VILLAGE, Level.TOWN, YUCI_CASE, MessageState.ACKNOWLEDGED, 1)
    await make("waiting", Level.TOWN, Level.COUNTY, YUCI_CASE, MessageState.PENDING, 2)
    await make("incident", Level.COUNTY, Level.CITY, YUCI_CASE, MessageState.FAILED, 3)
    await make("taigu", Level.COUNTY, Level.CITY, TAIGU_CASE, MessageState.FAILED, 4)
    yield {label: mid for label, (_, mid) in made.items()}
    for source, mid in made.values():
        async with nodes[source].sessions.begin() as session:
            await session.execute(delete(OutboxMessage).where(OutboxMessage.id == mid))


async def _as(gql: GraphQLClient, username: str, query: str, **variables: Any) -> dict[str, Any]:
    token = (await signed_in(gql, username))["accessToken"]
    body: dict[str, Any] = await gql(query, variables, **bearer(token))
    return body


async def _listed(gql: GraphQLClient, username: str) -> dict[str, Any]:
    """Every message ``username`` may see, page after page (the demo's own messages —
    licences to the library, their uses — come first and fill more than a page)."""
    token = (await signed_in(gql, username))["accessToken"]
    edges: list[Any] = []
    errors: list[Any] = []
    after = None
    while True:
        body: dict[str, Any] = await gql(LIST, {"first": 100, "after": after}, **bearer(token))
        errors += [e for e in body.get("errors", []) if e not in errors]
        page = body["data"]["outboxMessages"]
        edges += page["edges"]
        if not page["pageInfo"]["hasNextPage"]:
            listed = {"data": {"outboxMessages": {"edges": edges}}}
            return {**listed, "errors": errors} if errors else listed
        after = page["pageInfo"]["endCursor"]


def _mine(body: dict[str, Any], sent: dict[str, str]) -> list[str]:
    """The labels of this module's messages in a list, in its order."""
    labels = {mid: label for label, mid in sent.items()}
    edges = body["data"]["outboxMessages"]["edges"]
    return [labels[e["node"]["id"]] for e in edges if e["node"]["id"] in labels]


async def test_staff_and_auditors_see_the_messages_of_their_jurisdiction(
    gql: GraphQLClient, sent: dict[str, str]
) -> None:
    for username in ("yuci.receptionist", "yuci.supervisor", "yuci.auditor", "jz.auditor"):
        body = await _listed(gql, username)
        assert "errors" not in body, body
        expected = ["referred", "waiting", "incident"]
        if username == "jz.auditor":  # the city's auditor sees both counties
            expected.append("taigu")
        assert _mine(body, sent) == expected, username
    taigu = await _listed(gql, "taigu.reviewer")
    assert _mine(taigu, sent) == ["taigu"]
    node = next(
        e["node"]
        for e in taigu["data"]["outboxMessages"]["edges"]
        if e["node"]["id"] == sent["taigu"]
    )
    created = dt.datetime.fromisoformat(node.pop("createdAt"))
    assert created == DEMO_NOW + dt.timedelta(minutes=4)
    assert node == {
        "id": sent["taigu"],
        "topic": TOPIC,
        "sourceLevel": "COUNTY",
        "targetLevel": "CITY",
        "caseNumber": TAIGU_CASE,
        "divisionCode": "140703000000",
        "state": "FAILED",
        "attempts": 8,
        "lastError": "RuntimeError: it broke",
        "deliveredAt": None,
        "acknowledgedAt": None,
    }


async def test_nobody_else_sees_them(gql: GraphQLClient) -> None:
    for username in ("resident1", "firm1", "agent.140702101201.1"):
        body = await _as(gql, username, LIST)
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", username
    anonymous = await gql(LIST)
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_filters_and_pages(gql: GraphQLClient, sent: dict[str, str]) -> None:
    failed = await _as(gql, "yuci.supervisor", LIST, filter={"state": "FAILED"}, first=100)
    assert _mine(failed, sent) == ["incident"]
    by_case = await _as(gql, "yuci.supervisor", LIST, filter={"caseNumber": YUCI_CASE})
    assert _mine(by_case, sent) == ["referred", "waiting", "incident"]
    # from or to the town
    town = await _as(gql, "yuci.supervisor", LIST, filter={"level": "TOWN"}, first=100)
    assert _mine(town, sent) == ["referred", "waiting"]
    pages: list[str] = []
    after = None
    while True:
        body = await _as(
            gql, "yuci.auditor", LIST, filter={"caseNumber": YUCI_CASE}, first=1, after=after
        )
        pages += _mine(body, sent)
        info = body["data"]["outboxMessages"]["pageInfo"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert pages == ["referred", "waiting", "incident"]
    bad = await _as(gql, "yuci.auditor", LIST, filter={"caseNumber": "nope"})
    assert bad["errors"][0]["extensions"]["code"] == "INVALID_CASE_NUMBER"


async def test_an_admin_or_supervisor_retries_a_failed_message(
    gql: GraphQLClient, nodes: NodeRegistry, sent: dict[str, str]
) -> None:
    incident = sent["incident"]
    # reading is not enough
    for username in ("yuci.receptionist", "yuci.auditor"):
        body = await _as(gql, username, RETRY, id=incident)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", username
    # outside the jurisdiction, the message does not exist
    other = await _as(gql, "taigu.reviewer", RETRY, id=incident)
    assert other["data"]["retryMessage"]["errors"] == [
        {"code": "MESSAGE_NOT_FOUND", "field": ["input", "id"]}
    ]
    done = await _as(gql, "yuci.supervisor", RETRY, id=incident)
    assert done["data"]["retryMessage"] == {
        "message": {
            "id": incident,
            "state": "PENDING",
            "attempts": 0,
            "lastError": "RuntimeError: it broke",
        },
        "errors": [],
    }
    again = await _as(gql, "yuci.admin", RETRY, id=incident)
    assert again["data"]["retryMessage"]["errors"][0]["code"] == "MESSAGE_NOT_FAILED"
    unknown = await _as(gql, "yuci.admin", RETRY, id="0" * 32)
    assert unknown["data"]["retryMessage"]["errors"][0]["code"] == "MESSAGE_NOT_FOUND"
    # audited in the source store, by whom
    async with nodes[Level.COUNTY].sessions() as session:
        event = await session.scalar(
            select(AuditEvent)
            .where(AuditEvent.action == RETRIED_ACTION, AuditEvent.case_number == YUCI_CASE)
            .order_by(AuditEvent.seq.desc())
        )
    assert event is not None
    assert event.detail["message"] == incident and event.role == "SUPERVISOR"
    # back out of reach of any relay of a later test
    async with nodes[Level.COUNTY].sessions.begin() as session:
        row = await session.get(OutboxMessage, incident)
        assert row is not None
        row.state = MessageState.FAILED


@pytest.fixture
async def town_down(
    nodes: NodeRegistry, settings: Settings, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    if BACKEND == "postgres":
        url = pg.async_url("govhub_test_no_such_database")
    else:
        url = f"sqlite+aiosqlite:///{tmp_path}/missing-folder/town.sqlite3"
    engine = create_store_engine(url)
    if BACKEND != "postgres":
        (tmp_path / "missing-folder").rmdir()
    broken = dataclasses.replace(
        nodes[Level.TOWN], url=url, engine=engine, sessions=async_sessionmaker(engine)
    )
    registry = nodes.replacing(broken)
    app = create_app(settings, nodes=registry, clock=FixedClock(DEMO_NOW))
    async with httpx.AsyncClient(
        transport=client_transport(app), base_url="http://govhub.test"
    ) as client:
        yield client
    await app.state.broker.close()
    await app.state.identity.close()
    await engine.dispose()


async def test_a_store_that_is_down_leaves_the_rest_and_an_error(
    town_down: httpx.AsyncClient, sent: dict[str, str]
) -> None:
    gql = GraphQLClient(town_down)
    body = await _listed(gql, "yuci.supervisor")
    # the town's outbox (the "waiting" message) is missing; the rest is there
    assert _mine(body, sent) == ["referred", "incident"]
    (error,) = body["errors"]
    assert error["path"] == ["outboxMessages"]
    assert error["extensions"] == {
        "code": "NODE_UNAVAILABLE",
        "level": "TOWN",
        "node": "town",
        "prefixes": [""],
    }
