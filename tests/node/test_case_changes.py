"""The changes of a case other than its steps, taken at the node that holds the case
(``schema/node/case_mutation.py``) and called as the hub calls them: a village case's
file completed and referred by the village node (the hand-over in its outbox, the
events in its chain), then told of and supplied at the county node; a pre-review
result, a promised material handed in and a part decision at the county node. Typed
refusals change nothing; a case received where the node holds nothing is refused; and
without the hub's token nothing happens."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.audit.chain import verify_division
from levels.audit.models import AuditEvent
from levels.cases.enums import MaterialSource, MaterialState
from levels.cases.models import Case, CaseMaterial
from levels.cases.service import MaterialDraft, StepInput
from levels.common.clock import FixedClock
from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from levels.common.models import MatterImplementation
from levels.node.referrals import decode_item, decode_town, encode_item, encode_town
from levels.node.steps import encode_input
from levels.outbox.models import OutboxMessage
from tests.auth.conftest import own_hub
from tests.node.conftest import MakeClient
from tests.node.test_case_steps import actor
from tests.scenarios.desk import DISABILITY_CARD, STAFF, Desk, at
from tests.scenarios.test_referral import RESIDENT4_ID
from tests.scenarios.test_tolerance_commitment import SUPPORT, TOLERATED, _apply
from tests.support.messages import carry

STATION_CLERK = "xiuwencun.receptionist"  # 修文村便民服务站
# days of their own: no other test's cases are received on them
DAY = dt.date(2025, 10, 14)


@pytest.fixture
async def desk(settings: Settings, nodes: NodeRegistry) -> AsyncIterator[Desk]:
    async with own_hub(settings, nodes) as hub:
        d = Desk(hub)
        await d.sign_in("resident1", STATION_CLERK, *STAFF)
        yield d


async def events(nodes: NodeRegistry, level: Level, number: str) -> list[AuditEvent]:
    async with nodes[level].sessions() as session:
        found = await session.scalars(
            select(AuditEvent).where(AuditEvent.case_number == number).order_by(AuditEvent.seq)
        )
        return list(found)


async def row(nodes: NodeRegistry, level: Level, number: str) -> Case:
    async with nodes[level].sessions() as session:
        found = await session.get(Case, number)
    assert found is not None
    return found


async def referrals(nodes: NodeRegistry, number: str) -> int:
    async with nodes[Level.VILLAGE].sessions() as session:
        found = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.topic == "case.referred", OutboxMessage.case_number == number)
        )
    return int(found or 0)


async def deciding_item(nodes: NodeRegistry, code: str) -> dict[str, Any]:
    """The item a referral is decided under, as the hub reads and sends it."""
    async with nodes[Level.COUNTY].sessions() as session:
        impl = await session.get(MatterImplementation, code)
    assert impl is not None
    return encode_item(impl)


def paper(*names: str) -> dict[str, Any]:
    return encode_input(
        StepInput(materials=[MaterialDraft(n, MaterialSource.PAPER, None) for n in names])
    )


async def test_a_village_case_is_completed_and_referred_by_its_node_then_told_and_supplied(
    desk: Desk, nodes: NodeRegistry, node_client: MakeClient
) -> None:
    await desk.travel(at(DAY, 9))
    guide = await desk.materials("000700400100")
    submitted = await desk.submit(
        STATION_CLERK, DISABILITY_CARD, guide[:1], channel="COUNTER", applicantIdNumber=RESIDENT4_ID
    )
    assert submitted["errors"] == [], submitted
    number = submitted["case"]["number"]
    village, county = node_client("village"), node_client("county")
    clerk = actor(desk, STATION_CLERK)
    now = at(DAY, 10)  # the file completed after it was received: its version moves
    item = await deciding_item(nodes, DISABILITY_CARD)
    held = await row(nodes, Level.VILLAGE, number)
    missing = [m.name for m in await _materials(nodes, number) if m.state is MaterialState.MISSING]
    assert missing

    # a file that is not whole is not referred: the refusal typed, nothing written
    refused = await village.change_case("referCase", number, actor=clerk, now=now, item=item)
    assert refused["columns"] is None
    assert refused["error"]["code"] == "REFERRAL_INCOMPLETE"
    assert (await row(nodes, Level.VILLAGE, number)).version == held.version
    assert await referrals(nodes, number) == 0

    completed = await village.change_case(
        "completeFile", number, actor=clerk, now=now, given=paper(*missing)
    )
    assert completed["error"] is None, completed
    stale = await village.change_case(
        "referCase",
        number,
        actor=clerk,
        now=now,
        given=encode_input(StepInput(expected_version=held.version)),
        item=item,
    )
    assert stale["error"]["code"] == "VERSION_CONFLICT" and stale["columns"] is None
    assert await referrals(nodes, number) == 0

    sent = await village.change_case(
        "referCase", number, actor=clerk, now=now, item=item, reviewerName="王芳"
    )

    assert sent["error"] is None, sent
    assert sent["columns"]["status"] == "REFERRED"
    assert sent["columns"]["referred_to_level"] == "COUNTY"
    assert await referrals(nodes, number) == 1  # the hand-over, in the village's outbox
    done = await events(nodes, Level.VILLAGE, number)
    assert [e.action for e in done] == ["SUBMIT", "COMPLETE_FILE", "REFER"]
    assert {e.actor_id for e in done[1:]} == {desk.viewers[STATION_CLERK].subject}
    async with nodes[Level.VILLAGE].sessions() as session:
        report = await verify_division(
            session=session, level="VILLAGE", division=done[-1].division_code
        )
    assert report.valid, report
    # referred once: again is the rules' INVALID_TRANSITION, nothing more sent
    again = await village.change_case("referCase", number, actor=clerk, now=now, item=item)
    assert again["error"]["code"] == "INVALID_TRANSITION"
    assert await referrals(nodes, number) == 1

    # at the county, accepted on receipt; its one notice to the station, then the supply
    await carry(nodes, FixedClock(at(DAY, 11)))
    later = at(DAY, 14)
    told = await county.change_case(
        "notifyStation",
        number,
        actor=actor(desk, "yuci.receptionist"),
        now=later,
        given=encode_input(StepInput(missing=[(guide[0], "须盖章")])),
    )
    assert told["error"] is None, told
    assert told["columns"]["station_notices"][0]["materials"] == [
        {"name": guide[0], "note": "须盖章"}
    ]
    twice = await county.change_case(
        "notifyStation",
        number,
        actor=actor(desk, "yuci.receptionist"),
        now=later,
        given=encode_input(StepInput(missing=[(guide[0], None)])),
    )
    assert twice["error"]["code"] == "NO_SECOND_REQUEST"
    supplied = await county.change_case(
        "supplementAtStation", number, actor=clerk, now=later, given=paper(guide[0])
    )
    assert supplied["error"] is None, supplied
    assert [e.action for e in await events(nodes, Level.COUNTY, number)][-2:] == [
        "NOTIFY_STATION",
        "STATION_SUPPLEMENT",
    ]

    # a case received where the node holds nothing: refused before anything is read
    with pytest.raises(DomainError) as refused_here:
        await village.change_case(
            "completeFile", f"140702000000-{number[13:]}", actor=clerk, now=now
        )
    assert refused_here.value.code is ErrorCode.DIVISION_NOT_OWNED


async def _materials(nodes: NodeRegistry, number: str) -> list[CaseMaterial]:
    async with nodes[Level.VILLAGE].sessions() as session:
        found = await session.scalars(
            select(CaseMaterial).where(CaseMaterial.case_number == number)
        )
        return list(found)


async def test_a_pre_review_result_is_given_at_the_node_once(
    desk: Desk, nodes: NodeRegistry, node_client: MakeClient
) -> None:
    await desk.travel(at(DAY + dt.timedelta(days=1), 9))
    guide = await desk.materials("000700400100")
    submitted = await desk.submit("resident1", DISABILITY_CARD, guide[:-1])
    number = submitted["case"]["number"]
    county = node_client("county")
    receptionist = actor(desk, "yuci.receptionist")
    now = desk.hub.clock.now()
    missing = encode_input(StepInput(missing=[(guide[-1], "须二级以上医院诊断证明")]))

    bad = await _refused(county, "givePreReview", number, receptionist, now, result="MAYBE")
    assert bad.code is ErrorCode.BAD_USER_INPUT
    given = await county.change_case(
        "givePreReview", number, actor=receptionist, now=now, given=missing, result="INCOMPLETE"
    )
    assert given["error"] is None, given
    assert given["columns"]["status"] == "SUBMITTED"
    again = await county.change_case(
        "givePreReview", number, actor=receptionist, now=now, result="PASSED"
    )
    assert again["error"]["code"] == "PRE_REVIEW_ALREADY_GIVEN" and again["columns"] is None
    assert [e.action for e in await events(nodes, Level.COUNTY, number)] == [
        "SUBMIT",
        "PRE_REVIEW",
    ]


async def _refused(client: Any, change: str, number: str, who: Any, now: Any, **kw: Any) -> Any:
    with pytest.raises(DomainError) as refused:
        await client.change_case(change, number, actor=who, now=now, **kw)
    return refused.value


async def test_a_promised_material_is_handed_in_and_a_part_decision_refused_at_the_node(
    desk: Desk, nodes: NodeRegistry, node_client: MakeClient
) -> None:
    day = DAY + dt.timedelta(days=2)
    await desk.travel(at(day, 9))
    applied = await _apply(desk, SUPPORT, "000500100200", day + dt.timedelta(days=14))
    assert applied["errors"] == [], applied
    number = applied["case"]["number"]
    for step, who in (("acceptCase", "yuci.receptionist"), ("startReview", "yuci.reviewer")):
        assert (await desk.act(who, step, number=number))["errors"] == []
    county = node_client("county")
    now = at(day, 10)
    director = actor(desk, "yuci.director")
    before = await row(nodes, Level.COUNTY, number)

    # the waiver needs a reason; a case that is not joint has no part to decide
    no_reason = await county.change_case("overrideTolerance", number, actor=director, now=now)
    assert no_reason["error"]["code"] == "REASONS_REQUIRED"
    no_part = await county.change_case(
        "decidePart",
        number,
        actor=director,
        now=now,
        given=encode_input(StepInput(reasons="同意")),
        implementationCode=SUPPORT,
    )
    assert no_part["error"]["code"] == "PART_NOT_FOUND" and no_part["columns"] is None
    assert (await row(nodes, Level.COUNTY, number)).version == before.version

    handed = await county.change_case(
        "handInTolerated",
        number,
        actor=actor(desk, "resident1"),
        now=now,
        given=encode_input(
            StepInput(
                materials=[MaterialDraft(n, MaterialSource.FILE, f"later-{n}") for n in TOLERATED]
            )
        ),
    )

    assert handed["error"] is None, handed
    assert handed["columns"]["version"] == before.version + 1
    done = await events(nodes, Level.COUNTY, number)
    assert [e.actor_id for e in done if e.action == "HAND_IN_TOLERATED"] == [
        desk.viewers["resident1"].subject
    ]


async def test_without_the_hubs_token_no_referral_is_made(
    desk: Desk, node_apps: dict[str, Any]
) -> None:
    document = """mutation($number: String!, $actor: ActorInput!, $now: DateTime!) {
      completeFile(number: $number, actor: $actor, now: $now) { moved }
    }"""
    variables = {
        "number": "140702101201-20251014-00001",
        "actor": {"id": "someone", "kind": "STAFF"},
        "now": desk.hub.clock.now().isoformat(),
    }
    transport = httpx.ASGITransport(app=node_apps["village"])
    async with httpx.AsyncClient(transport=transport, base_url="http://village.test") as http:
        response = await http.post("/graphql", json={"query": document, "variables": variables})
    assert response.status_code == 401


async def test_a_referrals_route_crosses_as_json_and_back(nodes: NodeRegistry) -> None:
    item = await deciding_item(nodes, DISABILITY_CARD)
    back = decode_item(item)
    assert encode_item(back) == item and back.level is Level.COUNTY
    assert decode_town(encode_town(("12140702MB1010008W", "140702101000"))) == (
        "12140702MB1010008W",
        "140702101000",
    )
    assert decode_town(encode_town((None, "140702101000"))) == (None, "140702101000")
    for bad in ({**item, "level": "PROVINCE"}, {"code": "x"}, [item]):
        with pytest.raises(DomainError) as refused:
            decode_item(bad)
        assert (refused.value.code, refused.value.field) == (ErrorCode.BAD_USER_INPUT, ["item"])
    with pytest.raises(DomainError):
        decode_town({"orgCode": 1, "divisionCode": "140702101000"})
