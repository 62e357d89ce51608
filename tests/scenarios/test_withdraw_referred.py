"""撤回 of a referred case, over HTTP as the real people: a 修文村 resident's case is
referred by the village station (straight to 榆次区, or to 修文镇 that reviews first),
the resident withdraws it while it is on its way, the relay runs, and the org that
holds it sees it WITHDRAWN — once, with the station's hand-over linked. A withdrawal
held up in transit follows a case referred on meanwhile, and one that reaches a case
decided meanwhile changes nothing. Withdrawing a decided case is a typed error that
changes nothing and sends nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select, update

from gateway.nodes import NodeRegistry
from levels.audit.links import check_links
from levels.audit.models import AuditEvent
from levels.cases.models import Case
from levels.common.enums import Level
from levels.outbox.models import MessageState, OutboxMessage
from tests.scenarios.desk import Desk, at
from tests.scenarios.test_referral import (
    DISABILITY_CARD,
    RESIDENT4_ID,
    SUBSISTENCE,
    TIMELINE,
    codes,
    refer,
    relay,
)

WITHDRAWN_TOPIC = "case.withdrawn"


async def referred_case(desk: Desk, implementation: str, basic: str, when: dt.datetime) -> str:
    """A case of resident4's received at 修文村's station and referred up."""
    await desk.travel(when)
    submitted = await desk.submit(
        "xiuwencun.receptionist",
        implementation,
        await desk.materials(basic),
        channel="COUNTER",
        applicantIdNumber=RESIDENT4_ID,
    )
    assert submitted["errors"] == [], submitted
    number: str = submitted["case"]["number"]
    assert (await refer(desk, "xiuwencun.receptionist", number))["errors"] == []
    return number


async def seen(desk: Desk, number: str) -> dict[str, Any]:
    case: dict[str, Any] = (await desk.run("resident4", TIMELINE, number=number))["case"]
    return case


async def withdrawals(nodes: NodeRegistry, number: str) -> dict[Level, list[OutboxMessage]]:
    """The withdrawal messages about ``number`` in each store."""
    found = {}
    for level in Level:
        async with nodes[level].sessions() as session:
            found[level] = list(
                await session.scalars(
                    select(OutboxMessage)
                    .where(
                        OutboxMessage.case_number == number,
                        OutboxMessage.topic == WITHDRAWN_TOPIC,
                    )
                    .order_by(OutboxMessage.created_at)
                )
            )
    return found


async def trail(nodes: NodeRegistry, level: Level, number: str) -> list[AuditEvent]:
    async with nodes[level].sessions() as session:
        return list(
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.case_number == number)
                .order_by(AuditEvent.at, AuditEvent.seq)
            )
        )


async def deny(desk: Desk, number: str, when: dt.datetime) -> None:
    """榆次区 reviews the case it accepted on receipt and denies it."""
    await desk.travel(when)
    await desk.act("yuci.reviewer", "startReview", number=number)
    reasons = "经评定，残疾等级未达到发证标准"
    denied = await desk.act(
        "yuci.director", "decideCase", number=number, decision="DENIED", reasons=reasons
    )
    assert denied["errors"] == [] and denied["case"]["status"] == "DENIED"


async def hold(nodes: NodeRegistry, level: Level, number: str, until: dt.datetime) -> None:
    """The withdrawal is held up in transit: not due before ``until``."""
    async with nodes[level].sessions.begin() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.case_number == number, OutboxMessage.topic == WITHDRAWN_TOPIC)
            .values(next_attempt_at=until)
        )


async def test_withdrawn_on_its_way_up_is_withdrawn_where_it_arrives(
    desk: Desk, nodes: NodeRegistry
) -> None:
    received = dt.date(2025, 7, 1)
    number = await referred_case(desk, DISABILITY_CARD, "000700400100", at(received))
    on_the_way = await seen(desk, number)
    assert (on_the_way["level"], on_the_way["status"]) == ("VILLAGE", "REFERRED")

    # the resident withdraws it while it is on its way: the withdrawal follows it
    sent = await desk.act("resident4", "withdrawCase", number=number)
    assert sent["errors"] == []
    assert (sent["case"]["level"], sent["case"]["status"]) == ("VILLAGE", "REFERRED")
    assert sent["case"]["timeline"][-1]["action"] == "SEND_WITHDRAWAL"
    # asked twice, it is sent once
    again = await desk.act("resident4", "withdrawCase", number=number)
    assert codes(again) == ["WITHDRAWAL_UNDER_WAY"]
    out = await withdrawals(nodes, number)
    assert [m.target_level for m in out[Level.VILLAGE]] == [Level.COUNTY]
    # the same entity as the referral, numbered after it
    async with nodes[Level.VILLAGE].sessions() as session:
        referral = await session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.case_number == number, OutboxMessage.topic == "case.referred"
            )
        )
    assert referral is not None
    (withdrawal,) = out[Level.VILLAGE]
    assert (withdrawal.entity, withdrawal.entity_seq) == (referral.entity, referral.entity_seq + 1)
    assert withdrawal.target_division == referral.target_division == "140702000000"

    await relay(nodes, at(received, 11))
    case = await seen(desk, number)
    assert (case["level"], case["status"]) == ("COUNTY", "WITHDRAWN")
    assert [(e["action"], e["level"]) for e in case["timeline"]] == [
        ("SUBMIT", "VILLAGE"),
        ("REFER", "VILLAGE"),
        ("SEND_WITHDRAWAL", "VILLAGE"),
        ("RECEIVE_REFERRAL", "COUNTY"),
        ("WITHDRAW", "COUNTY"),
    ]
    county = await trail(nodes, Level.COUNTY, number)
    (withdrawn,) = [e for e in county if e.action == "WITHDRAW"]
    assert withdrawn.actor_id != "relay" and withdrawn.detail["message"] == withdrawal.id
    links = check_links([*await trail(nodes, Level.VILLAGE, number), *county])
    assert len(links) == 2 and all(r.valid for r in links), links
    # and once withdrawn, it stays withdrawn: a later relay pass changes nothing
    await relay(nodes, at(received, 12))
    assert [e.action for e in await trail(nodes, Level.COUNTY, number)].count("WITHDRAW") == 1
    late = await desk.act("resident4", "withdrawCase", number=number)
    assert codes(late) == ["INVALID_TRANSITION"]


async def test_withdrawing_a_decided_case_changes_nothing(desk: Desk, nodes: NodeRegistry) -> None:
    received = dt.date(2025, 7, 2)
    number = await referred_case(desk, DISABILITY_CARD, "000700400100", at(received))
    await relay(nodes, at(received, 11))
    await deny(desk, number, at(received, 14))
    before = await seen(desk, number)

    refused = await desk.act("resident4", "withdrawCase", number=number)
    assert codes(refused) == ["INVALID_TRANSITION"]
    assert await seen(desk, number) == before
    assert all(messages == [] for messages in (await withdrawals(nodes, number)).values())


async def test_a_withdrawal_held_up_reaches_a_decided_case_too_late(
    desk: Desk, nodes: NodeRegistry
) -> None:
    received = dt.date(2025, 7, 3)
    number = await referred_case(desk, DISABILITY_CARD, "000700400100", at(received))
    assert (await desk.act("resident4", "withdrawCase", number=number))["errors"] == []
    await hold(nodes, Level.VILLAGE, number, at(received + dt.timedelta(days=2)))
    await relay(nodes, at(received, 11))  # the referral arrives, the withdrawal does not
    assert (await seen(desk, number))["status"] == "ACCEPTED"
    await deny(desk, number, at(received, 14))

    await relay(nodes, at(received + dt.timedelta(days=2), 11))
    case = await seen(desk, number)
    assert case["status"] == "DENIED"
    assert [e["action"] for e in case["timeline"]][-2:] == ["DECIDE", "WITHDRAWAL_TOO_LATE"]
    (withdrawal,) = (await withdrawals(nodes, number))[Level.VILLAGE]
    async with nodes[Level.VILLAGE].sessions() as session:
        state = await session.scalar(
            select(OutboxMessage.state).where(OutboxMessage.id == withdrawal.id)
        )
    # applied (an answer, not an incident): nothing is left to retry
    assert state in (MessageState.DELIVERED, MessageState.ACKNOWLEDGED)


async def test_a_withdrawal_follows_a_case_the_town_referred_on(
    desk: Desk, nodes: NodeRegistry
) -> None:
    received = dt.date(2025, 7, 7)
    number = await referred_case(desk, SUBSISTENCE, "000500100100", at(received))
    assert (await desk.act("resident4", "withdrawCase", number=number))["errors"] == []
    await hold(nodes, Level.VILLAGE, number, at(received + dt.timedelta(days=2)))
    await relay(nodes, at(received, 11))
    assert (await seen(desk, number))["level"] == "TOWN"
    # 修文镇 reviews it and reports it up before the withdrawal reaches it
    await desk.travel(at(received + dt.timedelta(days=1)))
    up = await refer(desk, "xiuwen.reviewer", number, opinion="同意上报")
    assert up["errors"] == []

    await relay(nodes, at(received + dt.timedelta(days=2), 11))
    out = await withdrawals(nodes, number)
    # the town sent it on after its own referral, to the county
    assert [m.target_level for m in out[Level.TOWN]] == [Level.COUNTY]
    await relay(nodes, at(received + dt.timedelta(days=2), 12))
    case = await seen(desk, number)
    assert (case["level"], case["status"]) == ("COUNTY", "WITHDRAWN")
    actions = [(e["action"], e["level"]) for e in case["timeline"]]
    assert actions.count(("WITHDRAW", "COUNTY")) == 1
    assert ("SEND_WITHDRAWAL", "TOWN") in actions
    async with nodes[Level.TOWN].sessions() as session:
        town_row = await session.get(Case, number)
        assert town_row is not None and town_row.status.value == "REFERRED"
        count = await session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.case_number == number, AuditEvent.action == "WITHDRAW")
        )
    assert count == 0
