"""A case received at the node of its implementing org (``submitCase``), called as the
hub calls it: the case, its materials, timers and SUBMIT event by the actor given, in
the node's own transaction and chain; a refusal comes back typed with nothing written;
a submission that is not one is BAD_USER_INPUT. A keyed mutation's call carries its
idempotency record, written with the case; the key again is refused, nothing applied."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from auth.hub_tokens import HubTokenSigner
from gateway.nodes import NodeRegistry
from levels.audit.models import AuditEvent
from levels.cases.enums import ApplicantKind, MaterialSource
from levels.cases.intake import Applicant, Submission
from levels.cases.models import Case, CaseMaterial, CaseTimer
from levels.cases.service import MaterialDraft
from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from levels.idempotency.errors import IdempotencyErrorCode
from levels.idempotency.models import IdempotencyRecord
from levels.idempotency.records import HEADER, Pending, pending_var
from levels.node.intake import decode_submission, encode_submission
from resolvers import node_records
from resolvers.nodeclient import _DELIVER, _RECORD_CASE_READS, _SUBMIT_CASE
from tests.node.conftest import MakeClient
from tests.node.test_case_steps import actor, desk  # noqa: F401 (fixture)
from tests.scenarios.desk import DISABILITY_CARD, Desk

RECEPTIONIST = "yuci.receptionist"


async def _submission(desk: Desk, materials: list[str]) -> Submission:  # noqa: F811
    resident = desk.viewers["resident1"]
    return Submission(
        implementation_code=DISABILITY_CARD,
        matter_name="残疾人证",
        legal_limit_days=20,
        applicant=Applicant(ApplicantKind.PERSON, resident.subject, "张明", "1407**********0011"),
        channel="COUNTER",
        materials=[
            MaterialDraft(m, MaterialSource.FILE, f"file-{i}") for i, m in enumerate(materials)
        ],
    )


async def _count(nodes: NodeRegistry, model: Any) -> int:
    async with nodes[Level.COUNTY].sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_submission_crosses_as_json_and_back() -> None:
    sent = Submission(
        implementation_code=DISABILITY_CARD,
        matter_name="残疾人证",
        legal_limit_days=20,
        applicant=Applicant(ApplicantKind.PERSON, "a1", "张明", "1407**0011"),
        channel="WEB",
        materials=[MaterialDraft("申请表", MaterialSource.FILE, "file-0")],
    )
    back = decode_submission(encode_submission(sent))
    assert dataclasses.replace(back, joint=tuple(back.joint)) == sent


async def test_a_case_is_received_at_the_node_with_its_timers_and_event(
    desk: Desk,  # noqa: F811
    nodes: NodeRegistry,
    node_client: MakeClient,
) -> None:
    materials = await desk.materials("000700400100")
    submission = await _submission(desk, materials)
    who = actor(desk, RECEPTIONIST)

    answer = await node_client("county").submit_case(
        encode_submission(submission), actor=who, now=desk.hub.clock.now()
    )

    assert answer["error"] is None
    number = answer["columns"]["number"]
    assert answer["columns"]["status"] == "SUBMITTED"
    async with nodes[Level.COUNTY].sessions() as session:
        row = await session.get(Case, number)
        kept = await session.scalars(
            select(CaseMaterial.name).where(CaseMaterial.case_number == number)
        )
        timers = await session.scalars(select(CaseTimer).where(CaseTimer.case_number == number))
        submitted = await session.scalars(
            select(AuditEvent).where(
                AuditEvent.case_number == number, AuditEvent.action == "SUBMIT"
            )
        )
        assert row is not None and row.submitted_by == who["id"]
        assert set(kept) == set(materials)
        assert list(timers)  # the 3-day notice rule's timer, at least
        assert [e.actor_id for e in submitted] == [who["id"]]


async def test_a_refusal_is_typed_and_writes_nothing(
    desk: Desk,  # noqa: F811
    nodes: NodeRegistry,
    node_client: MakeClient,
) -> None:
    submission = await _submission(desk, ["不在指南里的材料"])
    before = (await _count(nodes, Case), await _count(nodes, AuditEvent))

    answer = await node_client("county").submit_case(
        encode_submission(submission), actor=actor(desk, RECEPTIONIST), now=desk.hub.clock.now()
    )
    with pytest.raises(DomainError) as bad:
        await node_client("county").submit_case(
            {"not": "a submission"}, actor=actor(desk, RECEPTIONIST), now=desk.hub.clock.now()
        )

    assert answer["columns"] is None
    assert (answer["error"]["code"], answer["error"]["field"]) == (
        "MATERIAL_NOT_IN_GUIDE",
        ["input", "materials", "0", "name"],
    )
    assert bad.value.code is ErrorCode.BAD_USER_INPUT
    assert (await _count(nodes, Case), await _count(nodes, AuditEvent)) == before


def _pending(nodes: NodeRegistry, key: str, now: dt.datetime) -> Pending:
    return Pending(
        client="tester",
        operation="submitCase",
        key=key,
        fingerprint="f" * 64,
        created_at=now,
        expires_at=now + dt.timedelta(hours=72),
        engines={node.engine.sync_engine: node for node in nodes},
    )


async def test_a_keyed_submission_writes_its_record_with_the_case_once(
    desk: Desk,  # noqa: F811
    nodes: NodeRegistry,
    node_client: MakeClient,
) -> None:
    submission = encode_submission(await _submission(desk, await desk.materials("000700400100")))
    who, now, key = actor(desk, RECEPTIONIST), desk.hub.clock.now(), f"node-{uuid.uuid4()}"
    client = node_client("county")
    before = await _count(nodes, Case)
    first, twin = _pending(nodes, key, now), _pending(nodes, key, now)

    token = pending_var.set(first)
    try:
        answer = await client.submit_case(submission, actor=who, now=now)
        # a twin request (another hub replica, its own record pending): not applied again
        pending_var.set(twin)
        with pytest.raises(DomainError) as refused:
            await client.submit_case(submission, actor=who, now=now)
    finally:
        pending_var.reset(token)

    number = answer["columns"]["number"]
    assert first.committed is nodes[Level.COUNTY] and first.effect is not None
    assert first.effect["store"] == "county" and f"cases:{number}" in first.effect["rows"]
    assert refused.value.code is IdempotencyErrorCode.IDEMPOTENCY_IN_PROGRESS
    assert twin.twin and twin.committed is None
    assert await _count(nodes, Case) == before + 1
    async with nodes[Level.COUNTY].sessions() as session:
        record = await session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == key))
    assert record is not None and record.effect == first.effect and record.response is None


async def test_a_refused_keyed_submission_writes_no_record(
    desk: Desk,  # noqa: F811
    nodes: NodeRegistry,
    node_client: MakeClient,
) -> None:
    submission = encode_submission(await _submission(desk, ["不在指南里的材料"]))
    now, key = desk.hub.clock.now(), f"node-{uuid.uuid4()}"
    pending = _pending(nodes, key, now)

    token = pending_var.set(pending)
    try:
        answer = await node_client("county").submit_case(
            submission, actor=actor(desk, RECEPTIONIST), now=now
        )
    finally:
        pending_var.reset(token)

    assert answer["error"]["code"] == "MATERIAL_NOT_IN_GUIDE"
    # still to be written: by the hub, after the mutation ran
    assert pending.open and pending.committed is None
    async with nodes[Level.COUNTY].sessions() as session:
        found = await session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == key))
    assert found is None


async def test_a_record_that_is_not_one_is_refused(
    raw: httpx.AsyncClient, signer: HubTokenSigner
) -> None:
    body = {"query": "{ __typename }"}
    bad = await raw.post(
        "/graphql",
        json=body,
        headers={"Authorization": f"Bearer {signer.token('county')}", HEADER: "{}"},
    )
    anonymous = await raw.post("/graphql", json=body, headers={HEADER: "{}"})

    assert bad.status_code == 400
    assert bad.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert anonymous.status_code == 401


async def test_a_nodes_records_are_read_kept_and_completed_through_its_api(
    desk: Desk,  # noqa: F811
    node_client: MakeClient,
) -> None:
    """What the hub asks of a node with an address (``resolvers/node_records.py``)."""
    now, key = desk.hub.clock.now(), f"node-{uuid.uuid4()}"
    client = node_client("city")
    record = _pending_record(key, now)

    kept, again = (
        await node_records.keep(client, record),
        await node_records.keep(client, _pending_record(key, now)),
    )
    found = await node_records.find(client, "tester", "submitCase", key, now)
    saved = await node_records.save(
        client, "tester", "submitCase", key, status_code=200, content_type="x/y", body=b"\x00ok"
    )
    done = await node_records.find(client, "tester", "submitCase", key, now)
    gone = await node_records.find(client, "tester", "submitCase", key, now + dt.timedelta(days=4))

    assert (kept, again, saved) == (True, False, True)
    assert found is not None and found.fingerprint == "f" * 64 and found.response == b"{}"
    assert done is not None and (done.status_code, done.content_type, done.response) == (
        200,
        "x/y",
        b"\x00ok",
    )
    assert gone is None  # expired


def _pending_record(key: str, now: dt.datetime) -> IdempotencyRecord:
    record = Pending(
        client="tester",
        operation="submitCase",
        key=key,
        fingerprint="f" * 64,
        created_at=now,
        expires_at=now + dt.timedelta(hours=72),
        engines={},
    ).record(None)
    record.status_code, record.content_type, record.response = 200, "application/json", b"{}"
    return record


def test_only_write_calls_carry_the_record(nodes: NodeRegistry) -> None:
    pending = _pending(nodes, "k", dt.datetime(2026, 11, 20, tzinfo=dt.UTC))
    token = pending_var.set(pending)
    try:
        carried = [
            node_records.carried(d)
            for d in (_SUBMIT_CASE, _RECORD_CASE_READS, _DELIVER, "query { x }")
        ]
        pending.closed = True
        closed = node_records.carried(_SUBMIT_CASE)
    finally:
        pending_var.reset(token)
    assert carried == [pending, None, None, None]
    assert closed is None and node_records.carried(_SUBMIT_CASE) is None
