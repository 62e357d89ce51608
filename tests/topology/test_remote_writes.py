"""Case steps through the node API: with 榆次区's node a process of its own at an
address, a step the hub is asked for (``acceptCase``) is taken by that node
(``takeCaseStep``) — the node's store has the step and its audit event, the hub's own
store for that node stays empty — with the hub's permission check before it and the
node's typed refusals after it; a node that does not answer the step, or is stopped,
is NODE_UNAVAILABLE naming it, and nothing is written anywhere."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from levels.audit.models import AuditEvent
from levels.cases.enums import CaseStatus
from levels.cases.models import Case
from tests.conftest import DEMO_NOW
from tests.support.cases import copy_demo_case, unused_number
from tests.support.federation import YUCI, Federation, count_rows
from tests.support.outages import assert_unavailable, no_answer

ACCEPT = """
mutation($input: CaseActionInput!) {
  acceptCase(input: $input) { case { number status version } errors { code field } }
}"""


_made = iter(range(90001, 99999))


async def _acceptable(federation: Federation) -> Case:
    """A case just received at 榆次区's service centre, for its receptionist's
    department, written into the node's store as the node's own desk would (a copy of
    one of its demo cases, as it stood on receipt, under a number of its own)."""
    desk = federation.desk
    if "yuci.receptionist" not in desk.viewers:
        await desk.sign_in("yuci.receptionist")
    viewer = desk.viewers["yuci.receptionist"]
    async with federation.stores[YUCI].sessions() as session:
        received = DEMO_NOW - dt.timedelta(hours=1)
        row = await copy_demo_case(
            session,
            Case.org_code == viewer.org_code,
            number=await unused_number(session, "140702000000-20261120", _made),
            status=CaseStatus.SUBMITTED,
            department_id=viewer.department_id,
            submitted_at=received,
            updated_at=received,
        )
        await session.commit()
    return row


async def test_a_case_at_yucis_node_is_accepted_by_the_node(federation: Federation) -> None:
    case = await _acceptable(federation)
    assert await count_rows(federation.hub, Case) == 0  # the hub's own store: nothing

    payload = await federation.desk.act(
        "yuci.receptionist", "acceptCase", number=case.number, expectedVersion=case.version
    )

    assert payload["errors"] == []
    assert payload["case"]["status"] == "ACCEPTED"
    async with federation.stores[YUCI].sessions() as session:
        row = await session.get(Case, case.number)
        events = list(
            await session.scalars(
                select(AuditEvent).where(
                    AuditEvent.case_number == case.number, AuditEvent.action == "ACCEPT"
                )
            )
        )
    assert row is not None and row.status is CaseStatus.ACCEPTED
    assert row.version == case.version + 1
    assert [e.actor_id for e in events] == [federation.desk.viewers["yuci.receptionist"].subject]
    # written at the node, not by the hub: its own store for the node is still empty
    assert await count_rows(federation.hub, Case) == 0
    assert await count_rows(federation.hub, AuditEvent) == 0


async def test_refusals_at_the_node_and_at_the_hub_come_back_typed(
    federation: Federation,
) -> None:
    case = await _acceptable(federation)
    desk = federation.desk

    stale = await desk.act(
        "yuci.receptionist", "acceptCase", number=case.number, expectedVersion=case.version + 5
    )
    not_theirs = await desk.act("yuci.reviewer", "acceptCase", number=case.number)

    # the node's rule: the case moved since it was read
    assert stale == {
        "case": None,
        "errors": [{"code": "VERSION_CONFLICT", "field": ["input", "expectedVersion"]}],
    }
    # the hub's check: a reviewer does not take cases up (the node is not asked)
    assert not_theirs["case"] is None
    assert [e["code"] for e in not_theirs["errors"]] == ["ROLE_NOT_ALLOWED"]
    async with federation.stores[YUCI].sessions() as session:
        row = await session.get(Case, case.number)
    assert row is not None and row.status is CaseStatus.SUBMITTED
    assert row.version == case.version


async def test_a_step_whose_answer_does_not_come_is_named(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the row is read, then the node does not answer the step within the timeout
    case = await _acceptable(federation)
    no_answer(monkeypatch, federation.hub, YUCI, "take_case_step")
    answer = await federation.desk.ask(
        "yuci.receptionist", ACCEPT, input={"number": case.number, "expectedVersion": 1}
    )

    assert_unavailable(answer, YUCI)
    assert await count_rows(federation.hub, Case) == 0


async def test_a_stopped_node_is_named_and_nothing_is_written(federation: Federation) -> None:
    case = await _acceptable(federation)
    before = await count_rows(federation.stores, AuditEvent, case_number=case.number)
    await federation.served[YUCI].stop()

    answer = await federation.desk.ask(
        "yuci.receptionist",
        ACCEPT,
        input={"number": case.number, "expectedVersion": case.version},
    )

    assert_unavailable(answer, YUCI)
    async with federation.stores[YUCI].sessions() as session:
        row = await session.get(Case, case.number)
    assert row is not None and row.status is CaseStatus.SUBMITTED
    assert await count_rows(federation.stores, AuditEvent, case_number=case.number) == before
    assert await count_rows(federation.hub, Case) == 0
    assert await count_rows(federation.hub, AuditEvent) == 0
