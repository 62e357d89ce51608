"""Referrals through the node API: with 榆次区's node a process of its own at an
address, a village case held by that node is completed and referred through the hub
(``completeReferralFile``, ``referCase``) by the node (``completeFile``,
``referCase``): the node's store has the case REFERRED, its events and the hand-over in
its outbox, with the route the hub read (the deciding item, the town that reviews
first) through the node's API; the hub's own store for that node stays empty. A node's
typed refusal comes back as the same error; a node that is stopped is NODE_UNAVAILABLE
naming it, and nothing is written anywhere."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from levels.audit.models import AuditEvent
from levels.cases.enums import CaseStatus, MaterialState
from levels.cases.models import Case, CaseMaterial
from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from levels.outbox.models import OutboxMessage
from tests.conftest import DEMO_NOW
from tests.scenarios.desk import DISABILITY_CARD
from tests.scenarios.test_referral import SUBSISTENCE
from tests.scenarios.test_village_proxy import STATION
from tests.support.cases import copy_demo_case, unused_number
from tests.support.federation import YUCI, Federation, assert_hub_untouched, count_rows
from tests.support.outages import assert_unavailable
from tests.topology.test_remote_reads import calls
from tests.topology.test_remote_writes import _acceptable

CLERK = "xiuwencun.receptionist"  # 修文村便民服务站
VILLAGE = "140702101201"  # 修文村
TOWN = "140702101000"  # 修文镇
REFER = """
mutation($input: ReferCaseInput!) {
  referCase(input: $input) { case { number status level version } errors { code field } }
}"""
COMPLETE = """
mutation($input: SupplementInput!) {
  completeReferralFile(input: $input) {
    case { number version materials { name state } } errors { code field }
  }
}"""

_made = iter(range(70001, 79999))


# what the hub's own store for Yuci must never hold: the writes went to the node
HUB_MODELS = (Case, AuditEvent, OutboxMessage, CaseMaterial)


async def _at_the_station(federation: Federation, item: str, *, missing: str | None = None) -> Case:
    """A case of ``item`` just received at 修文村's station, written into 榆次区's node
    store as the station's own desk would (a copy of one of the node's demo cases as it
    stood on receipt, under a village number of its own), with ``missing`` its one
    material still to collect."""
    async with federation.stores[YUCI].sessions() as session:
        received = DEMO_NOW - dt.timedelta(hours=1)
        row = await copy_demo_case(
            session,
            number=await unused_number(session, f"{VILLAGE}-20261120", _made),
            implementation_code=item,
            basic_code=item[-12:],
            division_code=VILLAGE,
            org_code=STATION,
            level=Level.VILLAGE,
            received_level=Level.VILLAGE,
            department_id=None,
            status=CaseStatus.SUBMITTED,
            submitted_at=received,
            updated_at=received,
        )
        if missing is not None:
            session.add(
                CaseMaterial(case_number=row.number, name=missing, state=MaterialState.MISSING)
            )
        await session.commit()
    return row


async def _refer(federation: Federation, who: str, number: str, **extra: Any) -> dict[str, Any]:
    data = await federation.desk.run(who, REFER, input={"number": number, **extra})
    payload: dict[str, Any] = data["referCase"]
    return payload


async def test_a_village_case_is_completed_and_referred_by_its_node(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = await _at_the_station(federation, DISABILITY_CARD, missing="户口簿")
    desk = federation.desk
    await assert_hub_untouched(federation, HUB_MODELS)

    # a file that is not whole is the node's refusal, nothing sent
    refused = await _refer(federation, CLERK, case.number)
    assert [e["code"] for e in refused["errors"]] == ["REFERRAL_INCOMPLETE"]
    with calls(federation, monkeypatch) as completing:
        completed = (
            await desk.run(
                CLERK,
                COMPLETE,
                input={
                    "number": case.number,
                    "materials": [{"name": "户口簿", "source": "PAPER"}],
                },
            )
        )["completeReferralFile"]
    assert completed["errors"] == [], completed
    assert completed["case"]["materials"] == [{"name": "户口簿", "state": "PROVIDED"}]
    # the case read at its node, the change made there (then the payload's materials)
    assert completing == Counter(
        {
            (YUCI, "Entities", None): 1,
            (YUCI, "CompleteFile", None): 1,
            (YUCI, "CaseRecords", "MATERIALS"): 1,
        }
    )
    stale = await _refer(federation, CLERK, case.number, expectedVersion=1)
    assert stale == {
        "case": None,
        "errors": [{"code": "VERSION_CONFLICT", "field": ["input", "expectedVersion"]}],
    }

    with calls(federation, monkeypatch) as referring:
        sent = await _refer(federation, CLERK, case.number)

    assert sent["errors"] == [], sent
    assert (sent["case"]["status"], sent["case"]["level"]) == ("REFERRED", "VILLAGE")
    # the case, the deciding item (榆次区's, at its node only), then the referral
    assert referring == Counter({(YUCI, "Entities", None): 2, (YUCI, "ReferCase", None): 1})
    async with federation.stores[YUCI].sessions() as session:
        row = await session.get(Case, case.number)
        actions = list(
            await session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.case_number == case.number)
                .order_by(AuditEvent.seq)
            )
        )
        message = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.case_number == case.number)
        )
    assert row is not None and row.status is CaseStatus.REFERRED
    assert row.referred_to_level is Level.COUNTY
    assert actions == ["COMPLETE_FILE", "REFER"]
    assert message is not None and message.topic == "case.referred"
    payload = message.payload
    assert (payload["divisionCode"], payload["decides"]) == ("140702000000", True)
    await assert_hub_untouched(federation, HUB_MODELS)


async def test_a_referral_to_the_reviewing_town_names_its_org_read_at_the_node(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = await _at_the_station(federation, SUBSISTENCE)

    with calls(federation, monkeypatch) as referring:
        sent = await _refer(federation, CLERK, case.number)

    assert sent["errors"] == [], sent
    # the case and the deciding item, the town's org, the referral: all at 榆次区's node
    assert referring == Counter(
        {
            (YUCI, "Entities", None): 2,
            (YUCI, "OrgRecords", "ORGS_OF_DIVISION"): 1,
            (YUCI, "ReferCase", None): 1,
        }
    )
    async with federation.stores[YUCI].sessions() as session:
        message = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.case_number == case.number)
        )
    assert message is not None and message.target_level is Level.TOWN
    payload = message.payload
    assert payload["divisionCode"] == TOWN and payload["orgCode"] and not payload["decides"]
    await assert_hub_untouched(federation, HUB_MODELS)


PRE_REVIEW = """
mutation($input: RecordPreReviewInput!) {
  recordPreReview(input: $input) { case { number status version } errors { code field } }
}"""
OVERRIDE = """
mutation($input: OverrideToleranceInput!) {
  overrideTolerance(input: $input) { case { number } errors { code field } }
}"""
PART = """
mutation($input: PartDecisionInput!) {
  recordPartDecision(input: $input) { case { number } errors { code field } }
}"""


async def test_a_pre_review_is_given_and_tolerance_and_parts_refused_by_the_node(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = await _acceptable(federation)  # at 榆次区's centre
    async with federation.stores[YUCI].sessions() as session:
        row = await session.get(Case, case.number)
        assert row is not None
        row.prereview_due_on = DEMO_NOW.date() + dt.timedelta(days=2)  # applied online
        await session.commit()
    desk = federation.desk
    number = case.number

    with calls(federation, monkeypatch) as giving:
        given = (
            await desk.run(
                "yuci.receptionist", PRE_REVIEW, input={"number": number, "result": "PASSED"}
            )
        )["recordPreReview"]

    assert given["errors"] == [], given
    assert giving == Counter({(YUCI, "Entities", None): 1, (YUCI, "GivePreReview", None): 1})
    # nothing promised, and not a joint case under review: the node's refusals, typed
    waived = await desk.run(
        "yuci.director", OVERRIDE, input={"number": number, "reason": "先行审批"}
    )
    part = await desk.run(
        "yuci.director",
        PART,
        input={"number": number, "implementationCode": DISABILITY_CARD, "decision": "APPROVED"},
    )
    assert waived["overrideTolerance"]["errors"] == [
        {"code": "NO_TOLERANCE_OUTSTANDING", "field": ["input", "number"]}
    ]
    assert [e["code"] for e in part["recordPartDecision"]["errors"]] == ["INVALID_TRANSITION"]
    async with federation.stores[YUCI].sessions() as session:
        row = await session.get(Case, number)
        actions = list(
            await session.scalars(select(AuditEvent.action).where(AuditEvent.case_number == number))
        )
    assert row is not None and row.prereview_result is not None
    assert row.version == given["case"]["version"]
    assert actions == ["PRE_REVIEW"]
    await assert_hub_untouched(federation, HUB_MODELS)


async def test_a_change_whose_answer_does_not_come_is_named(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the row and the route are read, then the node does not answer within the timeout
    case = await _at_the_station(federation, DISABILITY_CARD)
    client = federation.hub[YUCI].client
    assert client is not None

    async def no_answer(*_args: Any, **_kwargs: Any) -> dict[str, Any]:
        raise DomainError(ErrorCode.NODE_UNAVAILABLE, detail=f"node {YUCI}: no answer")

    monkeypatch.setattr(client, "change_case", no_answer)
    answer = await federation.desk.ask(CLERK, REFER, input={"number": case.number})

    assert_unavailable(answer, YUCI)
    await assert_hub_untouched(federation, HUB_MODELS)


async def test_a_stopped_node_is_named_and_nothing_is_written(federation: Federation) -> None:
    case = await _at_the_station(federation, DISABILITY_CARD)
    before = await count_rows(federation.stores, AuditEvent, case_number=case.number)
    await federation.served[YUCI].stop()

    answer = await federation.desk.ask(CLERK, REFER, input={"number": case.number})

    assert_unavailable(answer, YUCI)
    async with federation.stores[YUCI].sessions() as session:
        row = await session.get(Case, case.number)
    assert row is not None and row.status is CaseStatus.SUBMITTED
    assert await count_rows(federation.stores, AuditEvent, case_number=case.number) == before
    assert await count_rows(federation.stores, OutboxMessage, case_number=case.number) == 0
    await assert_hub_untouched(federation, HUB_MODELS)
