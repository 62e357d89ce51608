"""A case received below the deciding org (``receiveCase``), called as the hub calls
it: 修文村's station receives a 残疾人证 application for 榆次区's item at the village node,
with the item and its guide the hub read at the county node — the case numbered at the
village, its materials, referral clock and SUBMIT event by the clerk in the village
node's store and chain, nothing at the county; refusals come back typed with nothing
written; and without the hub's token nothing happens."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from gateway.nodes import NodeRegistry
from levels.audit.chain import verify_division
from levels.audit.models import AuditEvent
from levels.cases.enums import ApplicantKind, MaterialSource
from levels.cases.intake import Applicant, Receiver, Submission
from levels.cases.models import Case, CaseMaterial
from levels.cases.service import MaterialDraft
from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from levels.common.models import ImplementationMaterial, MatterImplementation
from levels.node.intake import (
    decode_item_read,
    decode_submission,
    encode_item_read,
    encode_submission,
)
from resolvers.nodeclient import NodeClient
from resolvers.nodewrites import write
from tests.node.conftest import MakeClient
from tests.node.test_case_changes import STATION_CLERK, desk  # noqa: F401 (fixture)
from tests.node.test_case_steps import actor
from tests.scenarios.desk import DISABILITY_CARD, Desk, at

DAY = dt.date(2025, 10, 21)  # a day of its own: no other test's cases are received on it


async def receive_case(
    client: NodeClient,
    submission: dict[str, Any],
    *,
    actor: dict[str, Any],
    now: dt.datetime,
    item: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``receiveCase`` as the hub asks it (``resolvers/submission.py``)."""
    return await write(
        client, "receiveCase", actor=actor, now=now, submission=submission, item=item
    )


def _submission(desk: Desk, materials: list[str]) -> Submission:  # noqa: F811
    clerk = desk.viewers[STATION_CLERK]
    assert clerk.org_code is not None and clerk.jurisdiction is not None
    return Submission(
        implementation_code=DISABILITY_CARD,
        matter_name="残疾人证",
        legal_limit_days=20,
        applicant=Applicant(ApplicantKind.PERSON, "a-zhaolei", "赵磊", "1407**********0033"),
        channel="COUNTER",
        materials=[MaterialDraft(m, MaterialSource.PAPER, None) for m in materials],
        received_by=Receiver(Level.VILLAGE, clerk.org_code, clerk.jurisdiction),
        clerk_name="修文村收件人",
    )


async def _item(nodes: NodeRegistry) -> dict[str, Any]:
    """The item and its guide, as the hub reads them at the county node."""
    async with nodes[Level.COUNTY].sessions() as session:
        item = await session.get(MatterImplementation, DISABILITY_CARD)
        guide = await session.scalars(
            select(ImplementationMaterial).where(
                ImplementationMaterial.implementation_code == DISABILITY_CARD
            )
        )
        return encode_item_read(item, list(guide))


async def _count(nodes: NodeRegistry, level: Level, model: Any) -> int:
    async with nodes[level].sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _counts(nodes: NodeRegistry) -> tuple[int, ...]:
    return tuple(
        [
            await _count(nodes, lv, m)
            for lv in (Level.VILLAGE, Level.COUNTY)
            for m in (Case, AuditEvent)
        ]
    )


def test_a_submission_received_below_and_an_item_cross_as_json_and_back() -> None:
    sent = Submission(
        implementation_code=DISABILITY_CARD,
        matter_name="残疾人证",
        legal_limit_days=20,
        applicant=Applicant(ApplicantKind.PERSON, "a1", "张明", "1407**0011"),
        channel="COUNTER",
        materials=[MaterialDraft("申请表", MaterialSource.FILE, "file-0")],
        received_by=Receiver(Level.VILLAGE, "54140702MB1010101X", "140702101201"),
    )
    back = decode_submission(encode_submission(sent))
    assert dataclasses.replace(back, joint=tuple(back.joint)) == sent
    assert decode_item_read(None) is None
    for bad in ({"item": {}}, {"item": 1, "guide": []}, [1]):
        with pytest.raises(DomainError) as refused:
            decode_item_read(bad)
        assert (refused.value.code, refused.value.field) == (ErrorCode.BAD_USER_INPUT, ["item"])


async def test_a_station_receives_for_the_county_at_the_village_node(
    desk: Desk,  # noqa: F811
    nodes: NodeRegistry,
    node_client: MakeClient,
) -> None:
    async with nodes[Level.COUNTY].sessions() as session:
        guide = list(
            await session.scalars(
                select(ImplementationMaterial.name)
                .where(ImplementationMaterial.implementation_code == DISABILITY_CARD)
                .order_by(ImplementationMaterial.position)
            )
        )
    clerk = actor(desk, STATION_CLERK)
    county_cases = await _count(nodes, Level.COUNTY, Case)

    answer = await receive_case(
        node_client("village"),
        encode_submission(_submission(desk, guide[:1])),
        actor=clerk,
        now=at(DAY, 9),
        item=await _item(nodes),
    )

    assert answer["error"] is None, answer
    village = desk.viewers[STATION_CLERK].jurisdiction
    assert village is not None
    number = answer["columns"]["number"]
    assert number.startswith(village)
    assert answer["columns"]["status"] == "SUBMITTED"
    assert answer["columns"]["received_level"] == "VILLAGE"
    async with nodes[Level.VILLAGE].sessions() as session:
        row = await session.get(Case, number)
        kept = list(
            await session.scalars(
                select(CaseMaterial.name).where(CaseMaterial.case_number == number)
            )
        )
        done = list(
            await session.scalars(select(AuditEvent).where(AuditEvent.case_number == number))
        )
        report = await verify_division(session=session, level="VILLAGE", division=village)
    assert row is not None and row.implementation_code == DISABILITY_CARD
    assert row.referral_due_on is not None  # the referral clock runs at the station
    assert set(kept) == set(guide)
    assert [(e.action, e.actor_id) for e in done] == [("SUBMIT", clerk["id"])]
    assert report.valid, report
    assert await _count(nodes, Level.COUNTY, Case) == county_cases


async def test_refusals_are_typed_and_write_nothing(
    desk: Desk,  # noqa: F811
    nodes: NodeRegistry,
    node_client: MakeClient,
) -> None:
    clerk = actor(desk, STATION_CLERK)
    now = at(DAY, 10)
    village, county = node_client("village"), node_client("county")
    item = await _item(nodes)
    before = await _counts(nodes)

    not_in_guide = await receive_case(
        village,
        encode_submission(_submission(desk, ["不在指南里的材料"])),
        actor=clerk,
        now=now,
        item=item,
    )
    not_kept = await receive_case(
        village, encode_submission(_submission(desk, [])), actor=clerk, now=now
    )
    with pytest.raises(DomainError) as not_owned:
        await receive_case(
            county, encode_submission(_submission(desk, [])), actor=clerk, now=now, item=item
        )
    with pytest.raises(DomainError) as not_at_the_org:
        await village.submit_case(encode_submission(_submission(desk, [])), actor=clerk, now=now)
    at_the_org = dataclasses.replace(_submission(desk, []), received_by=None)
    with pytest.raises(DomainError) as not_below:
        await receive_case(village, encode_submission(at_the_org), actor=clerk, now=now)
    with pytest.raises(DomainError) as not_an_item:
        await receive_case(
            village,
            encode_submission(_submission(desk, [])),
            actor=clerk,
            now=now,
            item={"item": 1, "guide": []},
        )

    assert not_in_guide["columns"] is None
    assert (not_in_guide["error"]["code"], not_in_guide["error"]["field"]) == (
        "MATERIAL_NOT_IN_GUIDE",
        ["input", "materials", "0", "name"],
    )
    # the village node keeps no county item: without the hub's read it is not in force
    assert not_kept["error"]["code"] == "IMPLEMENTATION_NOT_IN_FORCE"
    assert not_owned.value.code is ErrorCode.DIVISION_NOT_OWNED
    assert not_below.value.code is ErrorCode.BAD_USER_INPUT
    # submitCase takes only a case received by the implementing org itself
    assert not_at_the_org.value.code is ErrorCode.BAD_USER_INPUT
    assert not_an_item.value.code is ErrorCode.BAD_USER_INPUT
    assert await _counts(nodes) == before


async def test_without_the_hubs_token_nothing_is_received(
    desk: Desk,  # noqa: F811
    nodes: NodeRegistry,
    node_apps: dict[str, Any],
) -> None:
    document = """mutation($submission: JSON!, $actor: ActorInput!, $now: DateTime!) {
      receiveCase(submission: $submission, actor: $actor, now: $now) { columns }
    }"""
    variables = {
        "submission": encode_submission(_submission(desk, [])),
        "actor": {"id": "someone", "kind": "STAFF"},
        "now": at(DAY, 11).isoformat(),
    }
    before = await _counts(nodes)
    transport = httpx.ASGITransport(app=node_apps["village"])
    async with httpx.AsyncClient(transport=transport, base_url="http://village.test") as http:
        response = await http.post("/graphql", json={"query": document, "variables": variables})
    assert response.status_code == 401
    assert await _counts(nodes) == before
