"""Following a case live: ``caseUpdated(number)`` over graphql-transport-ws at
``/graphql``, in-process (httpx-ws drives the ASGI app on the test's own event loop).

A resident watches their new case while the receptionist accepts it over HTTP; nobody
else can watch it; a connection without an acceptable token is refused; with Redis
(the PostgreSQL pass) a change made through another hub process reaches the watcher."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from httpx_ws import AsyncWebSocketSession, WebSocketDisconnect, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport

from gateway.app import create_app
from gateway.nodes import NodeRegistry
from gateway.settings import Mode, Settings
from levels.common.clock import FixedClock
from resolvers.case_updates import case_channel, publish_case_updated
from resolvers.pubsub import QUEUE_SIZE, RESYNC, MemoryBroker, RedisBroker
from tests.auth.conftest import LOGOUT, bearer, own_hub, signed_in
from tests.conftest import BACKEND, DEMO_NOW, GraphQLClient

YUCI_ORG = "12140702MB00000006"
DISABILITY_CARD = f"{YUCI_ORG}2000700400100"  # 残疾人证, received at 榆次区
# a number in the right shape that no case has
NO_SUCH_CASE = "140702000000-20261120-99999"
# no message within this long means none is coming (a guard against hangs only)
WAIT = 10.0

FOLLOW = """
subscription Follow($number: String!) {
  caseUpdated(number: $number) {
    number status applicantName version
    timeline { action before after }
  }
}"""
SUBMIT = """
mutation($input: SubmitCaseInput!) {
  submitCase(input: $input) { case { number status } errors { code } }
}"""
ACCEPT = """
mutation($number: String!) {
  acceptCase(input: {number: $number}) { case { status } errors { code } }
}"""
MATERIALS = """
query { matterImplementations(filter: {basicCode: "000700400100",
    divisionCode: "140702000000", level: COUNTY}) {
  edges { node { materials { name } } } } }"""

_ids = itertools.count(1)


class GraphQLSocket:
    """The client side of graphql-transport-ws, as a browser library speaks it."""

    def __init__(self, ws: AsyncWebSocketSession) -> None:
        self.ws = ws

    async def send_init(self, payload: dict[str, Any] | None = None) -> None:
        await self.ws.send_json({"type": "connection_init", "payload": payload or {}})

    async def init(self, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        await self.send_init(payload)
        return await self.receive()

    async def receive(self) -> dict[str, Any]:
        message: dict[str, Any] = await self.ws.receive_json(timeout=WAIT)
        return message

    async def subscribe(self, query: str, **variables: Any) -> str:
        op = str(next(_ids))
        await self.ws.send_json(
            {"id": op, "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )
        return op

    async def next_payload(self, op: str) -> dict[str, Any]:
        """The payload of the operation's next message (``next`` or ``error``)."""
        message = await self.receive()
        assert message["id"] == op, message
        assert message["type"] in {"next", "error"}, message
        payload: dict[str, Any] = message["payload"]
        return payload if message["type"] == "next" else {"data": None, "errors": payload}

    async def completed(self, op: str) -> bool:
        """Whether the server's next message ends the operation."""
        return await self.receive() == {"id": op, "type": "complete"}

    async def complete(self, op: str) -> None:
        await self.ws.send_json({"id": op, "type": "complete"})

    async def closed_with(self) -> int:
        """The close code, once the server has closed the connection."""
        with pytest.raises(WebSocketDisconnect) as closed:
            await self.ws.receive_json(timeout=WAIT)
        return closed.value.code


@asynccontextmanager
async def graphql_socket(
    app: Any, headers: dict[str, str] | None = None
) -> AsyncIterator[GraphQLSocket]:
    async with (
        ASGIWebSocketTransport(app) as transport,
        httpx.AsyncClient(transport=transport, base_url="http://govhub.test") as client,
        aconnect_ws(
            "/graphql", client, subprotocols=["graphql-transport-ws"], headers=headers or {}
        ) as ws,
    ):
        assert ws.subprotocol == "graphql-transport-ws"
        yield GraphQLSocket(ws)


@asynccontextmanager
async def signed_in_socket(app: Any, token: str) -> AsyncIterator[GraphQLSocket]:
    async with graphql_socket(app) as socket:
        ack = await socket.init({"Authorization": f"Bearer {token}"})
        assert ack["type"] == "connection_ack", ack
        yield socket


async def token_of(gql: GraphQLClient, username: str) -> str:
    channel = "MOBILE" if username.startswith("resident") else "COUNTER"
    token: str = (await signed_in(gql, username, channel))["accessToken"]
    return token


async def submit_case(gql: GraphQLClient, token: str) -> str:
    edges = (await gql(MATERIALS))["data"]["matterImplementations"]["edges"]
    materials = [
        {"name": m["name"], "source": "FILE", "reference": f"file-{i}"}
        for i, m in enumerate(edges[0]["node"]["materials"])
    ]
    input = {"implementationCode": DISABILITY_CARD, "channel": "MOBILE", "materials": materials}
    body = await gql(SUBMIT, {"input": input}, **bearer(token))
    payload = body["data"]["submitCase"]
    assert payload["errors"] == [], payload
    number: str = payload["case"]["number"]
    return number


async def accept(gql: GraphQLClient, token: str, number: str) -> None:
    body = await gql(ACCEPT, {"number": number}, **bearer(token))
    assert body["data"]["acceptCase"] == {"case": {"status": "ACCEPTED"}, "errors": []}, body


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in payload.get("errors") or []]


def followers(app: Any, number: str) -> int:
    """How many subscribers this hub process keeps for the case."""
    broker = app.state.broker
    if isinstance(broker, RedisBroker):
        return broker._listeners[case_channel(number)]
    return len(broker._queues.get(case_channel(number), ()))


def connections_in_use(nodes: NodeRegistry) -> int:
    return sum(s.engine.pool.checkedout() for s in nodes.stores())  # type: ignore[attr-defined]


async def none_in_use(nodes: NodeRegistry) -> bool:
    """Whether the stores' connections all go back to their pools (they are given back
    just after a message is sent: wait for that, at most WAIT seconds)."""
    async with asyncio.timeout(WAIT):
        # a pool has nothing to await: look again until it is so
        while connections_in_use(nodes):  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    return True


@pytest.fixture
async def case_number(gql: GraphQLClient) -> str:
    """A new case of resident1's, as just submitted (SUBMITTED)."""
    return await submit_case(gql, await token_of(gql, "resident1"))


async def test_the_applicant_sees_their_case_accepted_live(
    app: Any, gql: GraphQLClient, nodes: NodeRegistry, case_number: str
) -> None:
    resident = await token_of(gql, "resident1")
    async with signed_in_socket(app, resident) as socket:
        op = await socket.subscribe(FOLLOW, number=case_number)
        now = await socket.next_payload(op)
        assert "errors" not in now, now
        case = now["data"]["caseUpdated"]
        assert (case["number"], case["status"]) == (case_number, "SUBMITTED")
        assert [e["action"] for e in case["timeline"]] == ["SUBMIT"]
        # following a case holds no store connection while it waits
        assert await none_in_use(nodes)

        await accept(gql, await token_of(gql, "yuci.receptionist"), case_number)

        changed = await socket.next_payload(op)
        assert "errors" not in changed, changed
        case = changed["data"]["caseUpdated"]
        assert case["status"] == "ACCEPTED"
        assert case["version"] > now["data"]["caseUpdated"]["version"]
        # read afresh from the node, nested lists included
        assert [e["action"] for e in case["timeline"]] == ["SUBMIT", "ACCEPT"]
        assert case["timeline"][-1]["after"] == "ACCEPTED"
        assert followers(app, case_number) == 1
    # the page closed: nothing is kept for it
    assert followers(app, case_number) == 0
    assert await none_in_use(nodes)


async def test_nobody_else_can_watch_the_case(
    app: Any, gql: GraphQLClient, case_number: str
) -> None:
    other = await token_of(gql, "resident2")
    async with signed_in_socket(app, other) as socket:
        for number in (case_number, NO_SUCH_CASE):
            op = await socket.subscribe(FOLLOW, number=number)
            refused = await socket.next_payload(op)
            # someone else's case and no case at all look the same
            assert refused["data"] is None
            assert codes(refused) == ["CASE_NOT_FOUND"]
            assert refused["errors"][0]["message"]  # in the client's language
            assert await socket.completed(op)
        # the case moving on tells the other resident nothing
        await accept(gql, await token_of(gql, "yuci.receptionist"), case_number)
        op = await socket.subscribe(FOLLOW, number="not-a-case-number")
        assert codes(await socket.next_payload(op)) == ["INVALID_CASE_NUMBER"]


async def test_a_malformed_number_is_the_same_typed_error_as_the_case_query(
    app: Any, gql: GraphQLClient
) -> None:
    resident = await token_of(gql, "resident1")
    query = await gql(
        "query($n: String!) { case(number: $n) { number } }", {"n": "1407-bad"}, **bearer(resident)
    )
    async with signed_in_socket(app, resident) as socket:
        op = await socket.subscribe(FOLLOW, number="1407-bad")
        live = await socket.next_payload(op)
    assert live["data"] is None
    assert codes(live) == codes(query) == ["INVALID_CASE_NUMBER"]
    assert live["errors"][0]["extensions"]["field"] == ["number"]


async def test_in_production_a_refusal_still_says_why(
    settings: Settings, nodes: NodeRegistry, gql: GraphQLClient, case_number: str
) -> None:
    prod = create_app(
        settings.model_copy(update={"mode": Mode.PROD}), nodes=nodes, clock=FixedClock(DEMO_NOW)
    )
    try:
        async with signed_in_socket(prod, await token_of(gql, "resident2")) as socket:
            op = await socket.subscribe(FOLLOW, number=case_number)
            assert codes(await socket.next_payload(op)) == ["CASE_NOT_FOUND"]
    finally:
        await prod.state.broker.close()
        await prod.state.identity.close()


async def test_over_http_a_subscription_is_refused(gql: GraphQLClient, case_number: str) -> None:
    resident = await token_of(gql, "resident1")
    response = await gql.post(FOLLOW, {"number": case_number}, **bearer(resident))
    assert response.status_code == 400
    assert "subscriptions are not allowed" in response.text


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"Authorization": "Bearer not-a-token"},
        {"authorization": "Basic cmVzaWRlbnQxOmdvdmh1Yg=="},
        {"Authorization": "Bearer "},
    ],
    ids=["anonymous", "forged", "not-bearer", "empty"],
)
async def test_a_connection_without_an_acceptable_token_is_refused(
    app: Any, payload: dict[str, str]
) -> None:
    async with graphql_socket(app) as socket:
        await socket.send_init(payload)
        assert await socket.closed_with() == 4403


async def test_a_signed_out_session_cannot_connect_and_stops_following(
    app: Any, gql: GraphQLClient, case_number: str
) -> None:
    resident = await token_of(gql, "resident1")
    async with signed_in_socket(app, resident) as socket:
        op = await socket.subscribe(FOLLOW, number=case_number)
        assert (await socket.next_payload(op))["data"]["caseUpdated"]["status"] == "SUBMITTED"
        body = await gql(LOGOUT, **bearer(resident))
        assert body["data"]["logout"]["revoked"] is True
        await accept(gql, await token_of(gql, "yuci.receptionist"), case_number)
        ended = await socket.next_payload(op)
        # the acceptance is not shown to a signed-out session
        assert ended["data"] is None
        assert codes(ended) == ["UNAUTHENTICATED"]
        assert await socket.completed(op)
    async with graphql_socket(app) as socket:
        await socket.send_init({"Authorization": f"Bearer {resident}"})
        assert await socket.closed_with() == 4403


async def test_subscribing_before_connection_init_is_unauthorized(app: Any) -> None:
    async with graphql_socket(app) as socket:
        await socket.subscribe(FOLLOW, number=NO_SUCH_CASE)
        assert await socket.closed_with() == 4401


async def test_the_handshake_header_signs_in_as_its_token(
    app: Any, gql: GraphQLClient, case_number: str
) -> None:
    resident = await token_of(gql, "resident1")
    async with graphql_socket(app, headers=bearer(resident)) as socket:
        assert (await socket.init())["type"] == "connection_ack"
        op = await socket.subscribe("{ me { username kind } }")
        me = await socket.next_payload(op)
        assert me["data"]["me"] == {"username": "resident1", "kind": "PERSON"}
        assert await socket.completed(op)
        op = await socket.subscribe(FOLLOW, number=case_number)
        case = (await socket.next_payload(op))["data"]["caseUpdated"]
        assert case["number"] == case_number


async def test_two_views_of_one_case_on_one_connection(
    app: Any, gql: GraphQLClient, case_number: str
) -> None:
    resident = await token_of(gql, "resident1")
    async with signed_in_socket(app, resident) as socket:
        first = await socket.subscribe(FOLLOW, number=case_number)
        assert (await socket.next_payload(first))["data"]["caseUpdated"]["status"] == "SUBMITTED"
        second = await socket.subscribe(FOLLOW, number=case_number)
        assert (await socket.next_payload(second))["data"]["caseUpdated"]["status"] == "SUBMITTED"
        # closing one view leaves the other following
        await socket.complete(first)
        await accept(gql, await token_of(gql, "yuci.receptionist"), case_number)
        changed = await socket.next_payload(second)
        assert changed["data"]["caseUpdated"]["status"] == "ACCEPTED"
        assert [e["action"] for e in changed["data"]["caseUpdated"]["timeline"]] == [
            "SUBMIT",
            "ACCEPT",
        ]


async def test_staff_watching_a_case_is_an_audited_read(
    app: Any, gql: GraphQLClient, case_number: str
) -> None:
    trail = """query($n: String!) { auditTrail(caseNumber: $n) { events { action role } } }"""
    auditor = bearer(await token_of(gql, "yuci.auditor"))
    before = (await gql(trail, {"n": case_number}, **auditor))["data"]["auditTrail"]["events"]
    async with signed_in_socket(app, await token_of(gql, "yuci.reviewer")) as socket:
        op = await socket.subscribe(FOLLOW, number=case_number)
        case = (await socket.next_payload(op))["data"]["caseUpdated"]
        assert case["applicantName"]
    after = (await gql(trail, {"n": case_number}, **auditor))["data"]["auditTrail"]["events"]
    assert after[len(before) :] == [{"action": "READ", "role": "REVIEWER"}]


async def test_a_slow_subscriber_keeps_the_latest_messages_only() -> None:
    broker = MemoryBroker()
    async with broker.subscribe("case:x") as slow:
        for i in range(QUEUE_SIZE + 10):
            await broker.publish("case:x", str(i))
        assert await anext(slow) == "10"  # the oldest ten were dropped
        assert slow.skip_pending() == QUEUE_SIZE - 1
    # left: nothing is queued for it any more
    await broker.publish("case:x", "late")
    assert not broker._queues


async def test_a_cancelled_subscriber_is_unsubscribed() -> None:
    broker = MemoryBroker()
    entered = asyncio.Event()

    async def follow() -> None:
        async with broker.subscribe("case:y") as messages:
            entered.set()
            await anext(messages)

    task = asyncio.create_task(follow())
    await entered.wait()
    assert broker._queues
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not broker._queues


@pytest.mark.postgres
@pytest.mark.skipif(BACKEND != "postgres", reason="Redis is there in the PostgreSQL pass")
async def test_a_change_through_another_hub_process_crosses_redis(
    app: Any, settings: Settings, nodes: NodeRegistry, gql: GraphQLClient, case_number: str
) -> None:
    assert isinstance(app.state.broker, RedisBroker)
    resident = await token_of(gql, "resident1")
    async with signed_in_socket(app, resident) as socket:
        op = await socket.subscribe(FOLLOW, number=case_number)
        assert (await socket.next_payload(op))["data"]["caseUpdated"]["status"] == "SUBMITTED"
        # another hub process on the same stores: only Redis connects the two
        async with own_hub(settings, nodes) as other:
            assert other.app.state.broker is not app.state.broker
            await accept(other.gql, await token_of(other.gql, "yuci.receptionist"), case_number)
            await other.app.state.broker.close()
        changed = await socket.next_payload(op)
        assert changed["data"]["caseUpdated"]["status"] == "ACCEPTED"


@pytest.mark.postgres
@pytest.mark.skipif(BACKEND != "postgres", reason="Redis is there in the PostgreSQL pass")
async def test_redis_brokers_of_two_processes_reach_each_other(settings: Settings) -> None:
    assert settings.redis_url
    here, there = (
        RedisBroker(settings.redis_url, settings.redis_namespace),
        RedisBroker(settings.redis_url, settings.redis_namespace),
    )
    try:
        async with here.subscribe(case_channel("140702000000-20261120-00042")) as messages:
            await publish_case_updated(there, "140702000000-20261120-00042")
            async with asyncio.timeout(WAIT):
                assert await anext(messages) == "140702000000-20261120-00042"
        assert not here._listeners
    finally:
        await here.close()
        await there.close()


@pytest.mark.postgres
@pytest.mark.skipif(BACKEND != "postgres", reason="Redis is there in the PostgreSQL pass")
async def test_after_redis_drops_the_connection_subscribers_read_again(
    settings: Settings,
) -> None:
    assert settings.redis_url
    here, there = (
        RedisBroker(settings.redis_url, settings.redis_namespace),
        RedisBroker(settings.redis_url, settings.redis_namespace),
    )
    number = "140702000000-20261120-00043"
    try:
        async with here.subscribe(case_channel(number)) as messages:
            connection = here._pubsub.connection
            assert connection is not None
            await connection.disconnect()  # what a Redis restart looks like from here
            async with asyncio.timeout(WAIT):
                # whatever was published meanwhile is lost: the subscriber reads again
                assert await anext(messages) == RESYNC
                await publish_case_updated(there, number)
                assert await anext(messages) == number
    finally:
        await here.close()
        await there.close()
