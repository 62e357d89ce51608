"""代办 at the node holding the village (``receiveForResident``), called as the hub calls
it: 修文村's agent hands in 赵磊's 最低生活保障 application on the demo's authorization at
the village node of the embedded map, with the county's item and its guide the hub read
there — the case numbered at the village, with the authorization's resident and phone,
its SUBMIT event and the station's service record (and its event) in the village
node's store and chain; refusals of the authorization or of the station's record come
back typed with nothing written; a node that does not hold the village refuses it; the
receipt crosses as JSON and back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from auth.models import Account
from gateway.demo.proxy import AGENT, SUBSISTENCE, SUBSISTENCE_AUTHORIZATION, VILLAGE
from gateway.nodes import NodeRegistry
from levels.audit.chain import verify_division
from levels.audit.models import AuditEvent
from levels.cases.enums import ApplicantKind, MaterialSource
from levels.cases.intake import Applicant, Receiver, Submission
from levels.cases.models import Case
from levels.cases.service import Actor, MaterialDraft
from levels.common.enums import Level, VillageServiceMode
from levels.common.errors import DomainError, ErrorCode
from levels.common.models import ImplementationMaterial, MatterImplementation
from levels.node.intake import encode_item_read, encode_submission
from levels.node.proxy import ProxyReceipt, StationService, decode_receipt, encode_receipt
from levels.node.steps import encode_actor
from levels.village.models import VillageService
from resolvers.node_proxy_calls import receive_for_resident
from tests.node.conftest import MakeClient
from tests.scenarios.desk import at

DAY = dt.date(2026, 11, 23)  # a day of its own: no other test's cases are received on it
STATION = "12140702MB1012011N"  # 修文村便民服务站
MODES = (VillageServiceMode.FULL_PROXY, VillageServiceMode.ACCOMPANIED)


def _receipt(**changed: Any) -> ProxyReceipt:
    given: dict[str, Any] = {
        "authorization_id": SUBSISTENCE_AUTHORIZATION,
        "village_code": VILLAGE.code,
        "basic_code": "000500100100",
        "resident_id": None,
        "modes": MODES,
        "service": StationService(),
        "free_age": 70,
        **changed,
    }
    return ProxyReceipt(**given)


def _submission(materials: list[str], village: str = VILLAGE.code) -> Submission:
    return Submission(
        implementation_code=SUBSISTENCE,
        matter_name="最低生活保障审批",
        legal_limit_days=20,
        applicant=Applicant(ApplicantKind.PERSON, "", "", ""),
        channel="PROXY",
        materials=[MaterialDraft(m, MaterialSource.PAPER, None) for m in materials],
        received_by=Receiver(Level.VILLAGE, STATION, village),
        clerk_name="修文村代办员",
    )


async def _item(nodes: NodeRegistry) -> tuple[dict[str, Any], list[str]]:
    """The county's item and its guide, as the hub reads them there."""
    async with nodes[Level.COUNTY].sessions() as session:
        item = await session.get(MatterImplementation, SUBSISTENCE)
        guide = list(
            await session.scalars(
                select(ImplementationMaterial)
                .where(ImplementationMaterial.implementation_code == SUBSISTENCE)
                .order_by(ImplementationMaterial.position)
            )
        )
    return encode_item_read(item, guide), [g.name for g in guide]


async def _agent(nodes: NodeRegistry) -> dict[str, Any]:
    async with nodes.identity.sessions() as session:
        agent = await session.scalar(select(Account).where(Account.username == AGENT))
    assert agent is not None
    return encode_actor(Actor(id=agent.id, kind="AGENT", channel="COUNTER"))


async def _counts(nodes: NodeRegistry) -> tuple[int, ...]:
    found = []
    for level in (Level.VILLAGE, Level.COUNTY):
        async with nodes[level].sessions() as session:
            for model in (Case, AuditEvent, VillageService):
                count = await session.scalar(select(func.count()).select_from(model))
                found.append(int(count or 0))
    return tuple(found)


async def _ask(
    client: Any, nodes: NodeRegistry, receipt: ProxyReceipt, materials: list[str] | None = None
) -> dict[str, Any]:
    item, guide = await _item(nodes)
    return await receive_for_resident(
        client,
        encode_submission(
            _submission(guide if materials is None else materials, receipt.village_code)
        ),
        encode_receipt(receipt),
        actor=await _agent(nodes),
        now=at(DAY, 9),
        item=item,
    )


def test_a_receipt_crosses_as_json_and_back() -> None:
    sent = _receipt(
        resident_id="r4",
        service=StationService(VillageServiceMode.ACCOMPANIED, "王芳", Decimal("5.50"), 71),
    )
    assert decode_receipt(encode_receipt(sent)) == sent
    for bad in ({}, [1], {**encode_receipt(sent), "modes": ["NOT_A_MODE"]}):
        with pytest.raises(DomainError) as refused:
            decode_receipt(bad)
        assert (refused.value.code, refused.value.field) == (ErrorCode.BAD_USER_INPUT, ["receipt"])


async def test_an_agents_submission_is_received_at_the_village_node(
    nodes: NodeRegistry, node_client: MakeClient
) -> None:
    agent = await _agent(nodes)
    answer = await _ask(node_client("village"), nodes, _receipt())

    assert answer["error"] is None, answer
    number = answer["columns"]["number"]
    assert number.startswith(VILLAGE.code)
    columns = answer["columns"]
    assert (columns["channel"], columns["proxy_authorization_id"]) == (
        "PROXY",
        SUBSISTENCE_AUTHORIZATION,
    )
    assert columns["applicant_name"] == "赵磊" and columns["applicant_phone"]
    async with nodes[Level.VILLAGE].sessions() as session:
        service = await session.scalar(
            select(VillageService).where(VillageService.case_number == number)
        )
        done = (
            await session.execute(
                select(AuditEvent.action, AuditEvent.actor_id)
                .where(AuditEvent.division_code == VILLAGE.code)
                .order_by(AuditEvent.seq.desc())
                .limit(2)
            )
        ).all()
        report = await verify_division(session=session, level="VILLAGE", division=VILLAGE.code)
    async with nodes[Level.COUNTY].sessions() as session:
        assert await session.get(Case, number) is None
    assert service is not None and service.mode is VillageServiceMode.FULL_PROXY
    assert [tuple(d) for d in done] == [
        ("RECORD_VILLAGE_SERVICE", agent["id"]),
        ("SUBMIT", agent["id"]),
    ]
    assert report.valid, report


async def test_refusals_are_typed_and_write_nothing(
    nodes: NodeRegistry, node_client: MakeClient
) -> None:
    village = node_client("village")
    before = await _counts(nodes)
    tried = [
        (_receipt(authorization_id="0" * 32), "AUTHORIZATION_NOT_FOUND"),
        # the agent's village is another: not theirs to read
        (_receipt(village_code="140702101202"), "AUTHORIZATION_NOT_FOUND"),
        (_receipt(basic_code="000700400100"), "AUTHORIZATION_OTHER_MATTER"),
        (_receipt(resident_id="someone-else"), "AUTHORIZATION_OTHER_RESIDENT"),
        (_receipt(modes=(VillageServiceMode.IMMEDIATE,)), "MODE_NOT_OFFERED"),
        # the station's record refuses after the case is written: both go
        (_receipt(service=StationService(fee_yuan=Decimal("5"))), "AGE_UNKNOWN"),
        (_receipt(service=StationService(fee_yuan=Decimal("0.001"))), "INVALID_FEE"),
    ]
    for receipt, code in tried:
        answer = await _ask(village, nodes, receipt)
        assert answer["columns"] is None and answer["error"]["code"] == code, receipt
    not_in_guide = await _ask(village, nodes, _receipt(), ["不在指南里的材料"])
    assert not_in_guide["error"]["code"] == "MATERIAL_NOT_IN_GUIDE"
    assert await _counts(nodes) == before


async def test_a_node_that_does_not_hold_the_village_refuses_it(
    nodes: NodeRegistry, node_client: MakeClient
) -> None:
    before = await _counts(nodes)
    with pytest.raises(DomainError) as refused:
        await _ask(node_client("county"), nodes, _receipt())
    assert refused.value.code is ErrorCode.DIVISION_NOT_OWNED
    assert await _counts(nodes) == before
