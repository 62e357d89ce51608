"""A case step taken at the node that holds the case (``takeCaseStep``), called as the
hub calls it: the node runs the rules in its own transaction and writes the step with
its audit event in its own chain; an approval issues its licence signed with the
issuing org's key kept in the node's store; a refusal comes back typed (the case as it
stands when a due timer moved it first); a case received where the node holds nothing
is refused; and without the hub's token nothing happens."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from auth.viewer import Viewer
from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.audit.chain import verify_division
from levels.audit.models import AuditEvent
from levels.cases.enums import Decision
from levels.cases.models import Case
from levels.cases.service import Actor, StepInput
from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from levels.licences.models import ELicence, LicenceKey
from levels.node.steps import encode_actor, encode_input
from tests.auth.conftest import own_hub
from tests.conftest import BACKEND
from tests.node.conftest import MakeClient, statements
from tests.resolvers.test_statement_counts import ACCEPT_STATEMENTS
from tests.scenarios.desk import DISABILITY_CARD, STAFF, YUCI_ORG, Desk, at

YUCI = "140702000000"  # 榆次区


@pytest.fixture
async def desk(settings: Settings, nodes: NodeRegistry) -> AsyncIterator[Desk]:
    async with own_hub(settings, nodes) as hub:
        d = Desk(hub)
        await d.sign_in("resident1", *STAFF)
        yield d


def actor(desk: Desk, who: str) -> dict[str, Any]:
    """Who acts, as the hub tells the node (``resolvers.cases.actor_of``)."""
    viewer: Viewer = desk.viewers[who]
    return encode_actor(
        Actor(
            id=viewer.subject,
            kind=viewer.kind.value if viewer.kind else "ANONYMOUS",
            role=",".join(sorted(r.value for r in viewer.roles)) or None,
            channel=viewer.channel.value if viewer.channel else None,
            org_code=viewer.org_code,
            request_id=uuid.uuid4().hex,
            department_id=viewer.department_id,
        )
    )


async def submitted(desk: Desk) -> dict[str, Any]:
    """A 残疾人证 case just received at 榆次区 (through the hub, as the applicant sends it)."""
    materials = await desk.materials("000700400100")
    payload = await desk.submit("resident1", DISABILITY_CARD, materials)
    assert payload["errors"] == [], payload
    case: dict[str, Any] = payload["case"]
    return case


async def events(nodes: NodeRegistry, number: str) -> list[AuditEvent]:
    async with nodes[Level.COUNTY].sessions() as session:
        found = await session.scalars(
            select(AuditEvent).where(AuditEvent.case_number == number).order_by(AuditEvent.seq)
        )
        return list(found)


async def test_a_step_is_taken_at_the_node_with_its_audit_event_in_its_chain(
    desk: Desk, nodes: NodeRegistry, node_client: MakeClient, node_apps: dict[str, Any]
) -> None:
    case = await submitted(desk)
    number = case["number"]

    with statements(node_apps["county"]) as counted:
        answer = await node_client("county").take_case_step(
            number,
            "ACCEPT",
            actor=actor(desk, "yuci.receptionist"),
            now=desk.hub.clock.now(),
            given=encode_input(StepInput(expected_version=case["version"])),
        )

    assert answer["error"] is None and answer["moved"] is False
    # the same transaction as the hub's acceptCase on a store of its own
    assert counted["n"] == ACCEPT_STATEMENTS[BACKEND], counted
    assert answer["columns"]["status"] == "ACCEPTED"
    assert answer["columns"]["version"] == case["version"] + 1
    async with nodes[Level.COUNTY].sessions() as session:
        row = await session.get(Case, number)
        assert row is not None and row.status.name == "ACCEPTED"
        accepted = [e for e in await events(nodes, number) if e.action == "ACCEPT"]
        assert [e.actor_id for e in accepted] == [desk.viewers["yuci.receptionist"].subject]
        report = await verify_division(
            session=session, level="COUNTY", division=accepted[0].division_code
        )
    assert report.valid, report


async def test_an_approval_at_the_node_issues_its_licence_with_the_orgs_key_there(
    desk: Desk, nodes: NodeRegistry, node_client: MakeClient
) -> None:
    number = (await submitted(desk))["number"]
    county = node_client("county")
    now = desk.hub.clock.now()
    for step, who in (("ACCEPT", "yuci.receptionist"), ("START_REVIEW", "yuci.reviewer")):
        done = await county.take_case_step(number, step, actor=actor(desk, who), now=now)
        assert done["error"] is None, done

    decided = await county.take_case_step(
        number,
        "DECIDE",
        actor=actor(desk, "yuci.director"),
        now=now,
        given=encode_input(StepInput(decision=Decision.APPROVED, reasons="符合条件")),
        licence_fields={"category": "肢体", "grade": "三级"},
    )

    assert decided["error"] is None, decided
    assert decided["columns"]["status"] == "APPROVED"
    async with nodes[Level.COUNTY].sessions() as session:
        licences = list(
            await session.scalars(select(ELicence).where(ELicence.source_case_number == number))
        )
        keys = set(
            await session.scalars(select(LicenceKey.kid).where(LicenceKey.org_code == YUCI_ORG))
        )
    assert [lic.issuer_org_code for lic in licences] == [YUCI_ORG]
    assert licences[0].kid in keys  # signed with the org's key kept in the node's store


async def test_refusals_come_back_typed_and_change_nothing(
    desk: Desk, nodes: NodeRegistry, node_client: MakeClient
) -> None:
    case = await submitted(desk)
    number = case["number"]
    county = node_client("county")
    receptionist = actor(desk, "yuci.receptionist")
    now = desk.hub.clock.now()

    stale = await county.take_case_step(
        number,
        "ACCEPT",
        actor=receptionist,
        now=now,
        given=encode_input(StepInput(expected_version=case["version"] + 7)),
    )
    wrong_state = await county.take_case_step(number, "DECIDE", actor=receptionist, now=now)
    missing = await county.take_case_step(
        f"{YUCI}-20261120-88888", "ACCEPT", actor=receptionist, now=now
    )

    assert stale["columns"] is None
    assert (stale["error"]["code"], stale["error"]["field"]) == (
        "VERSION_CONFLICT",
        ["input", "expectedVersion"],
    )
    assert wrong_state["columns"] is None
    assert wrong_state["error"]["code"] == "INVALID_TRANSITION"
    assert missing["error"]["code"] == "CASE_NOT_FOUND"
    assert [e.action for e in await events(nodes, number)] == ["SUBMIT"]


async def test_a_step_a_due_timer_overtook_answers_the_case_as_the_timer_left_it(
    desk: Desk, nodes: NodeRegistry, node_client: MakeClient
) -> None:
    number = (await submitted(desk))["number"]
    later = at(desk.hub.clock.now().date() + dt.timedelta(days=14))

    answer = await node_client("county").take_case_step(
        number, "NOTIFY_SUPPLEMENT", actor=actor(desk, "yuci.receptionist"), now=later
    )

    # 3 working days without a notice: the case counts as accepted on receipt
    assert answer["moved"] is True
    assert answer["error"]["code"] == "DEEMED_ACCEPTED"
    assert answer["columns"]["status"] == "ACCEPTED"
    assert "DEEM_ACCEPTED" in [e.action for e in await events(nodes, number)]


async def test_a_case_received_where_the_node_holds_nothing_is_refused(
    desk: Desk, nodes: NodeRegistry, node_client: MakeClient
) -> None:
    number = (await submitted(desk))["number"]

    with pytest.raises(DomainError) as refused:
        await node_client("town").take_case_step(
            number, "ACCEPT", actor=actor(desk, "yuci.receptionist"), now=desk.hub.clock.now()
        )

    assert refused.value.code is ErrorCode.DIVISION_NOT_OWNED
    assert [e.action for e in await events(nodes, number)] == ["SUBMIT"]


async def test_a_bad_step_input_is_refused_as_bad_user_input(
    desk: Desk, node_client: MakeClient
) -> None:
    number = (await submitted(desk))["number"]

    with pytest.raises(DomainError) as refused:
        await node_client("county").take_case_step(
            number,
            "ACCEPT",
            actor=actor(desk, "yuci.receptionist"),
            now=desk.hub.clock.now(),
            given={"expected_version": 1, "not_a_field": True},
        )

    assert refused.value.code is ErrorCode.BAD_USER_INPUT


async def test_without_the_hubs_token_no_step_is_taken(
    desk: Desk, nodes: NodeRegistry, node_apps: dict[str, Any]
) -> None:
    number = (await submitted(desk))["number"]
    document = """mutation($number: String!, $actor: ActorInput!, $now: DateTime!) {
      takeCaseStep(number: $number, step: ACCEPT, actor: $actor, now: $now) { moved }
    }"""
    variables = {
        "number": number,
        "actor": {"id": "someone", "kind": "STAFF"},
        "now": desk.hub.clock.now().isoformat(),
    }
    transport = httpx.ASGITransport(app=node_apps["county"])
    async with httpx.AsyncClient(transport=transport, base_url="http://county.test") as http:
        response = await http.post("/graphql", json={"query": document, "variables": variables})

    assert response.status_code == 401
    assert [e.action for e in await events(nodes, number)] == ["SUBMIT"]
