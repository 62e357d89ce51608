"""What follows a rating at the node that keeps it (``followUpRating``, ``fileComplaint``),
called as the hub calls them (``resolvers/node_evaluation_calls.py``): a rectification
called back and completed, a complaint filed and handled, each with its event in the
chain of the case's division (which verifies); the rules' refusals typed with nothing
written; an action, a satisfaction or a complaint it does not know, a missing
decision and a division the node does not keep refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from gateway.nodes import NodeRegistry
from levels.audit.chain import verify_division
from levels.audit.models import AuditEvent
from levels.cases.models import Case
from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from levels.evaluations.enums import Satisfaction
from levels.evaluations.models import Complaint, Rectification
from levels.evaluations.service import ComplaintDraft
from levels.node.evaluations import FollowUpInput
from resolvers.node_evaluation_calls import file_complaint, follow_up
from resolvers.nodeclient import NodeClient
from resolvers.nodewrites import _outcome
from tests.node.conftest import MakeClient
from tests.node.test_ratings import DAYS, _applicant, _cases, rate_case
from tests.scenarios.desk import at

STAFF = {"id": "staff-1", "kind": "STAFF", "channel": "WEB"}


async def _rectification(
    nodes: NodeRegistry, county: NodeClient
) -> tuple[str, str, str, dt.datetime]:
    """A 差评 of a decided 榆次区 case at the county node: the case, the rectification's
    and the rating's public ids, and the instant."""
    decided, _ = await _cases(nodes)
    now = at(decided.updated_at.date(), 23)
    rated = await rate_case(
        county, decided.number, "DISSATISFIED", actor=_applicant(decided), now=now,
        rectification_days=DAYS,
    )  # fmt: skip
    assert rated["error"] is None, rated
    return decided.number, rated["rectification"]["public_id"], rated["columns"]["public_id"], now


async def _count(nodes: NodeRegistry) -> tuple[int, ...]:
    async with nodes[Level.COUNTY].sessions() as session:
        return tuple(
            [
                int(await session.scalar(select(func.count()).select_from(m)) or 0)
                for m in (Complaint, AuditEvent)
            ]
        )


async def test_a_rectification_and_a_complaint_are_written_at_the_node(
    nodes: NodeRegistry, node_client: MakeClient
) -> None:
    county = node_client("county")
    number, rid, _eid, now = await _rectification(nodes, county)

    early = await follow_up(
        county, rid, "COMPLETE_RECTIFICATION", FollowUpInput(text="增派人员"),
        level=Level.COUNTY, actor=STAFF, now=now,
    )  # fmt: skip
    called = await follow_up(
        county, rid, "RECORD_CALLBACK", FollowUpInput(text="已回访"),
        level=Level.COUNTY, actor=STAFF, now=now,
    )  # fmt: skip
    done = await follow_up(
        county, rid, "COMPLETE_RECTIFICATION", FollowUpInput(text="增派人员"),
        level=Level.COUNTY, actor=STAFF, now=now,
    )  # fmt: skip
    # about the org that holds the case: a real one, as the suite's figures list orgs
    async with nodes[Level.COUNTY].sessions() as session:
        org = await session.scalar(select(Case.org_code).where(Case.number == number))
    assert org is not None
    draft = ComplaintDraft("态度生硬", org_code=org, division_code=number[:12], case_number=number)
    filed = await file_complaint(
        county, draft, level=Level.COUNTY, actor=STAFF, now=now, complaint_days=5
    )
    handled = await follow_up(
        county, filed["columns"]["public_id"], "HANDLE_COMPLAINT", FollowUpInput(text="已处理"),
        level=Level.COUNTY, actor=STAFF, now=now,
    )  # fmt: skip

    assert (early["columns"], early["error"]["code"]) == (None, "CALLBACK_REQUIRED")
    assert called["columns"]["callback_note"] == "已回访" and called["error"] is None
    assert done["columns"]["status"] == "COMPLETED"
    assert filed["columns"]["status"] == "OPEN" and filed["columns"]["due_on"]
    assert handled["columns"]["status"] == "HANDLED"
    async with nodes[Level.COUNTY].sessions() as session:
        events = list(
            await session.scalars(
                select(AuditEvent).where(AuditEvent.case_number == number).order_by(AuditEvent.seq)
            )
        )
        report = await verify_division(session=session, level="COUNTY", division=number[:12])
    assert [e.action for e in events[-4:]] == [
        "RECORD_CALLBACK", "COMPLETE_RECTIFICATION", "FILE_COMPLAINT", "HANDLE_COMPLAINT",
    ]  # fmt: skip
    assert {e.division_code for e in events} == {number[:12]}
    assert report.valid, report


async def test_what_the_node_does_not_know_or_keep_is_refused(
    nodes: NodeRegistry, node_client: MakeClient
) -> None:
    county = node_client("county")
    number, rid, eid, now = await _rectification(nodes, county)
    before = await _count(nodes)

    async def refused(client: NodeClient, **variables: Any) -> DomainError:
        with pytest.raises(DomainError) as caught:
            await _outcome(
                client, "followUpRating", FOLLOW_UP, STAFF, now,
                {"id": rid, "action": "RECORD_CALLBACK", "level": "COUNTY", **variables},
            )  # fmt: skip
        return caught.value

    unknown = await refused(county, action="SHRUG")
    undecided = await refused(county, id=eid, action="DECIDE_APPEAL")
    unfelt = await refused(county, action="RATE_COMPLAINT_HANDLING", satisfaction="MEH")
    elsewhere = await refused(node_client("town"), text="x")
    with pytest.raises(DomainError) as not_a_complaint:
        await _outcome(
            county, "fileComplaint", FILE, STAFF, now,
            {"complaint": {"what": "x"}, "level": "COUNTY", "complaintDays": 5},
        )  # fmt: skip
    missing = await follow_up(
        county, f"{number[:12]}-00000000", "RATE_COMPLAINT_HANDLING",
        FollowUpInput(satisfaction=Satisfaction.SATISFIED),
        level=Level.COUNTY, actor=STAFF, now=now,
    )  # fmt: skip

    assert (unknown.code, unknown.field) == (ErrorCode.BAD_USER_INPUT, ["action"])
    assert (undecided.code, undecided.field) == (ErrorCode.BAD_USER_INPUT, ["uphold"])
    assert (unfelt.code, unfelt.field) == (ErrorCode.BAD_USER_INPUT, ["satisfaction"])
    assert elsewhere.code is ErrorCode.DIVISION_NOT_OWNED
    assert not_a_complaint.value.code is ErrorCode.BAD_USER_INPUT
    assert (missing["columns"], missing["error"]["code"]) == (None, "COMPLAINT_NOT_FOUND")
    assert await _count(nodes) == before
    async with nodes[Level.COUNTY].sessions() as session:
        row = await session.scalar(select(Rectification).where(Rectification.public_id == rid))
    assert row is not None and row.callback_note is None


FOLLOW_UP = """
mutation($id: String!, $action: String!, $level: Level!, $actor: ActorInput!,
  $now: DateTime!, $text: String, $uphold: Boolean, $satisfaction: String) {
  followUpRating(id: $id, action: $action, level: $level, actor: $actor, now: $now,
    text: $text, uphold: $uphold, satisfaction: $satisfaction) { columns error { code } }
}"""
FILE = """
mutation($complaint: JSON!, $level: Level!, $actor: ActorInput!, $now: DateTime!,
  $complaintDays: Int!) {
  fileComplaint(complaint: $complaint, level: $level, actor: $actor, now: $now,
    complaintDays: $complaintDays) { columns error { code } }
}"""
