"""What follows a rating, through the node API: with 榆次区's node a process of its own at
an address, a rectification's callback and completion, an appeal and its decision, a
complaint filed, handled and rated through the hub are written by that node
(``followUpRating``, ``fileComplaint``): the answers those of the SQL path (the same
journey by a hub reading the node's store), the rows and their events in the node's
store only (in the chain of the division), the hub's own store for the node untouched,
the calls pinned. A refusal of the rules is the same typed error, the hub's check
refuses without asking the node to write, a node refuses a division it does not keep,
and a node that does not answer or is stopped is NODE_UNAVAILABLE naming it, with
nothing written. On the PostgreSQL pass each node's store, and each of the hub's own,
is a PostgreSQL database of its own."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import pytest
from sqlalchemy import select

from levels.audit.models import AuditEvent
from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from levels.evaluations.models import Complaint, Evaluation, Rectification
from levels.evaluations.service import ComplaintDraft
from levels.node.evaluations import FollowUpInput
from resolvers import node_evaluation_calls
from resolvers.globalid import decode_id
from tests.conftest import BACKEND
from tests.resolvers.test_global_ids import legacy
from tests.scenarios.desk import Desk
from tests.scenarios.test_queue import A01
from tests.support.federation import (
    CITY,
    TAIGU,
    YUCI,
    Federation,
    assert_hub_untouched,
    count_rows,
    sql_desk,
)
from tests.support.outages import assert_unavailable, no_answer
from tests.topology.test_remote_ratings import APPLICANT, _decided
from tests.topology.test_remote_reads import calls

YUCI_DIVISION = "140702000000"
EVALUATION = "rating negative appealStatus appealNote rectification { status dueOn }"
RECTIFICATION = "status dueOn overdue callbackBy callbackNote measures"
COMPLAINT = "caseNumber staffId orgCode status dueOn overdue handling satisfaction content"
RATE = f"""
mutation($input: RateCaseInput!) {{
  rateCase(input: $input) {{ evaluation {{ id {EVALUATION} rectification {{ id }} }}
    errors {{ code field }} }}
}}"""
CALLBACK = f"""
mutation($input: RecordCallbackInput!) {{
  recordCallback(input: $input) {{ rectification {{ {RECTIFICATION} }} errors {{ code field }} }}
}}"""
COMPLETE = f"""
mutation($input: CompleteRectificationInput!) {{
  completeRectification(input: $input) {{
    rectification {{ {RECTIFICATION} }} errors {{ code field }} }}
}}"""
APPEAL = f"""
mutation($input: AppealRatingInput!) {{
  appealRating(input: $input) {{ evaluation {{ {EVALUATION} }} errors {{ code field }} }}
}}"""
DECIDE = f"""
mutation($input: DecideAppealInput!) {{
  decideAppeal(input: $input) {{ evaluation {{ {EVALUATION} }} errors {{ code field }} }}
}}"""
FILE = f"""
mutation($input: FileComplaintInput!) {{
  fileComplaint(input: $input) {{ complaint {{ id {COMPLAINT} }} errors {{ code field }} }}
}}"""
HANDLE = f"""
mutation($input: HandleComplaintInput!) {{
  handleComplaint(input: $input) {{ complaint {{ {COMPLAINT} }} errors {{ code field }} }}
}}"""
SATISFACTION = f"""
mutation($input: RateComplaintHandlingInput!) {{
  rateComplaintHandling(input: $input) {{ complaint {{ {COMPLAINT} }} errors {{ code field }} }}
}}"""

# what the hub's own store for Yuci must never hold: the writes went to the node
HUB_MODELS = (Evaluation, Rectification, Complaint, AuditEvent)
# the follow-ups' events, in the order of the journey, after RATE_CASE and OPEN_RECTIFICATION
FOLLOW_UP_EVENTS = [
    "RECORD_CALLBACK",
    "COMPLETE_RECTIFICATION",
    "APPEAL_RATING",
    "DECIDE_APPEAL",
    "FILE_COMPLAINT",
    "HANDLE_COMPLAINT",
    "RATE_COMPLAINT_HANDLING",
]
ENTITIES = (YUCI, "Entities", None)
FOLLOW_UP = (YUCI, "FollowUpRating", None)


@pytest.fixture(scope="module")
def federation(backend_federation: Federation) -> Federation:
    """The city node and two county nodes as processes and a hub reading them through
    their API, on the run's backend (``tests/topology/conftest.py``)."""
    for stores in (backend_federation.stores, backend_federation.hub):
        assert stores[YUCI].url.startswith("postgresql") == (BACKEND == "postgres")
    return backend_federation


def _records(kind: str) -> tuple[str, str, str]:
    return (YUCI, "OrgRecords", kind)


async def _do(desk: Desk, who: str, mutation: str, **input: Any) -> dict[str, Any]:
    data = await desk.run(who, mutation, input=input)
    payload: dict[str, Any] = next(iter(data.values()))
    return payload


def _plain(payload: dict[str, Any]) -> dict[str, Any]:
    """An answer without the IDs and case numbers, which differ from case to case."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in ("id", "caseNumber")}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    stripped: dict[str, Any] = strip(payload)
    return stripped


async def _journey(
    desk: Desk,
    number: str,
    counting: Any = None,
) -> tuple[list[dict[str, Any]], list[Counter[Any]]]:
    """A 差评 of case ``number``, then every follow-up — a refused one among them — by
    the roles the policy table allows: each answer (without IDs) and, with
    ``counting`` (a ``calls`` of the hub's node calls), the calls each made."""
    rated = await _do(desk, APPLICANT, RATE, caseNumber=number, rating="DISSATISFIED")
    assert rated["errors"] == [], rated
    eid = rated["evaluation"]["id"]
    rid = rated["evaluation"]["rectification"]["id"]
    answers: list[dict[str, Any]] = []
    counted: list[Counter[Any]] = []
    # the complaint's id is known once it is filed
    made: dict[str, str] = {}

    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("yuci.reviewer", COMPLETE, {"id": rid, "measures": "窗口增派人员"}),  # refused
        ("yuci.reviewer", CALLBACK, {"id": rid, "note": "申请人表示排队时间过长"}),
        ("yuci.reviewer", COMPLETE, {"id": rid, "measures": "窗口增派人员"}),
        ("yuci.receptionist", APPEAL, {"id": eid, "reason": "当日系统故障"}),
        ("yuci.receptionist", APPEAL, {"id": eid, "reason": "再次"}),  # refused
        ("yuci.receptionist", DECIDE, {"id": eid, "uphold": False, "note": "x"}),  # the hub's
        ("yuci.supervisor", DECIDE, {"id": eid, "uphold": False, "note": "系统日志无故障"}),
        (APPLICANT, FILE, {"caseNumber": number, "content": "工作人员态度生硬"}),
        (APPLICANT, SATISFACTION, {"id": "complaint", "satisfaction": "SATISFIED"}),  # refused
        ("yuci.supervisor", HANDLE, {"id": "complaint", "handling": "约谈当事人并通报批评"}),
        (APPLICANT, SATISFACTION, {"id": "complaint", "satisfaction": "SATISFIED"}),
        (APPLICANT, SATISFACTION, {"id": "complaint", "satisfaction": "DISSATISFIED"}),
    ]
    for who, mutation, given in steps:
        input = {k: made.get(v, v) if k == "id" else v for k, v in given.items()}
        block: AbstractContextManager[Counter[Any]] = (
            counting() if counting is not None else nullcontext(Counter())
        )
        with block as calls_made:
            answer = await _do(desk, who, mutation, **input)
        counted.append(Counter(calls_made))
        if mutation is FILE:
            made["complaint"] = answer["complaint"]["id"]
        answers.append(_plain(answer))
    return answers, counted


def _codes(answers: list[dict[str, Any]]) -> list[list[str]]:
    return [[e["code"] for e in a["errors"]] for a in answers]


async def test_the_follow_ups_are_written_at_the_node_as_by_sql(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    by_api, by_sql = await _decided(federation), await _decided(federation)

    answers, counted = await _journey(
        federation.desk, by_api, lambda: calls(federation, monkeypatch)
    )
    async with sql_desk(federation) as desk:
        expected, _ = await _journey(desk, by_sql)

    # the same answers, the rules' refusals the same typed errors, as by SQL
    assert answers == expected
    assert _codes(answers) == [
        ["CALLBACK_REQUIRED"], [], [], [], ["ALREADY_APPEALED"], ["ROLE_NOT_ALLOWED"],
        [], [], ["COMPLAINT_NOT_HANDLED"], [], [], ["SATISFACTION_GIVEN"],
    ]  # fmt: skip
    assert answers[2]["rectification"]["status"] == "COMPLETED"
    assert answers[6]["evaluation"]["appealStatus"] == "DISMISSED"
    assert answers[10]["complaint"]["satisfaction"] == "SATISFIED"

    # the calls: the row at its node (orgRecords by public id), then the write there;
    # the payload's rectification of a rating read after it; none to another node
    rectification = Counter({_records("RECTIFICATIONS"): 1, FOLLOW_UP: 1})
    rating = Counter({_records("EVALUATIONS"): 1, FOLLOW_UP: 1})
    with_its_rectification = rating + Counter({_records("RECTIFICATIONS_OF_EVALUATION"): 1})
    complaint = Counter({_records("COMPLAINTS"): 1, FOLLOW_UP: 1})
    assert counted == [
        rectification,
        rectification,
        rectification,
        with_its_rectification,
        rating,  # refused by the node: no payload
        Counter({_records("EVALUATIONS"): 1}),  # refused by the hub: the node not asked
        with_its_rectification,
        Counter({ENTITIES: 1, (YUCI, "FileComplaint", None): 1}),
        complaint,
        complaint,
        complaint,
        complaint,
    ]

    # the rows and their events in 榆次区's store only, in its division's chain
    for model in (Evaluation, Rectification, Complaint):
        assert await count_rows(federation.stores, model, case_number=by_api) == 1, model
        for other in (CITY, TAIGU):
            assert await count_rows(federation.stores, model, other, case_number=by_api) == 0
    async with federation.stores[YUCI].sessions() as session:
        events = (
            await session.execute(
                select(AuditEvent.action, AuditEvent.division_code)
                .where(AuditEvent.case_number == by_api)
                .order_by(AuditEvent.seq)
            )
        ).all()
    assert [a for a, _ in events] == ["RATE_CASE", "OPEN_RECTIFICATION", *FOLLOW_UP_EVENTS]
    assert {d for _, d in events} == {YUCI_DIVISION}
    await assert_hub_untouched(federation, HUB_MODELS)


async def test_an_upheld_appeal_voids_the_rectification_at_the_node(
    federation: Federation,
) -> None:
    number = await _decided(federation)
    desk = federation.desk
    rated = await _do(desk, APPLICANT, RATE, caseNumber=number, rating="VERY_DISSATISFIED")
    eid = rated["evaluation"]["id"]
    await _do(desk, "yuci.director", APPEAL, id=eid, reason="评价对象错误")

    upheld = await _do(desk, "yuci.supervisor", DECIDE, id=eid, uphold=True)

    assert upheld["errors"] == [], upheld
    assert upheld["evaluation"]["appealStatus"] == "UPHELD"
    assert upheld["evaluation"]["rectification"]["status"] == "VOIDED"
    async with federation.stores[YUCI].sessions() as session:
        row = await session.scalar(select(Rectification).where(Rectification.case_number == number))
    assert row is not None and row.status.value == "VOIDED"
    await assert_hub_untouched(federation, HUB_MODELS)


async def test_a_complaint_about_a_window_is_filed_at_its_node(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    with calls(federation, monkeypatch) as counted:
        filed = await _do(federation.desk, APPLICANT, FILE, windowId=A01, content="没有叫号")

    assert filed["errors"] == [], filed
    assert (filed["complaint"]["status"], filed["complaint"]["caseNumber"]) == ("OPEN", None)
    # the window and its org read at 榆次区's node, the complaint written there
    assert counted == Counter(
        {_records("WINDOWS"): 1, (YUCI, "Entities", None): 1, (YUCI, "FileComplaint", None): 1}
    )
    key = str(decode_id(filed["complaint"]["id"]).key)
    async with federation.stores[YUCI].sessions() as session:
        row = await session.scalar(select(Complaint).where(Complaint.public_id == key))
        assert row is not None and row.window_id == decode_id(A01).key
        # its event in the chain of its division, though it has no case
        filings = await session.scalars(
            select(AuditEvent).where(AuditEvent.action == "FILE_COMPLAINT")
        )
        chained = [e.division_code for e in filings if e.detail["complaintId"] == row.id]
    assert chained == [row.division_code] == [YUCI_DIVISION]
    await assert_hub_untouched(federation, HUB_MODELS)


async def test_a_node_refuses_rows_of_a_division_it_does_not_keep(
    federation: Federation,
) -> None:
    number = await _decided(federation)
    rated = await _do(federation.desk, APPLICANT, RATE, caseNumber=number, rating="DISSATISFIED")
    key = str(decode_id(rated["evaluation"]["rectification"]["id"]).key)
    taigu = federation.hub[TAIGU].client
    assert taigu is not None
    actor = {"id": "someone", "kind": "STAFF"}
    now = dt.datetime.now(dt.UTC)

    with pytest.raises(DomainError) as refused:
        await node_evaluation_calls.follow_up(
            taigu, key, "RECORD_CALLBACK", FollowUpInput(text="x"),
            level=Level.COUNTY, actor=actor, now=now,
        )  # fmt: skip
    assert refused.value.code is ErrorCode.DIVISION_NOT_OWNED
    draft = ComplaintDraft("x", org_code="org", division_code=YUCI_DIVISION)
    with pytest.raises(DomainError) as refused:
        await node_evaluation_calls.file_complaint(
            taigu, draft, level=Level.COUNTY, actor=actor, now=now, complaint_days=5
        )
    assert refused.value.code is ErrorCode.DIVISION_NOT_OWNED
    async with federation.stores[YUCI].sessions() as session:
        row = await session.scalar(select(Rectification).where(Rectification.public_id == key))
    assert row is not None and row.callback_note is None


async def test_a_follow_up_whose_answer_does_not_come_is_named(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = await _decided(federation)
    desk = federation.desk
    rated = await _do(desk, APPLICANT, RATE, caseNumber=number, rating="DISSATISFIED")
    rid = rated["evaluation"]["rectification"]["id"]
    no_answer(monkeypatch, federation.hub, YUCI, "_outcome_call")

    answer = await desk.ask(
        "yuci.reviewer", CALLBACK, input={"id": rid, "note": "申请人表示排队时间过长"}
    )
    filed = await desk.ask(APPLICANT, FILE, input={"caseNumber": number, "content": "差"})

    assert_unavailable(answer, YUCI)
    assert_unavailable(filed, YUCI)
    async with federation.stores[YUCI].sessions() as session:
        row = await session.scalar(select(Rectification).where(Rectification.case_number == number))
    assert row is not None and row.callback_note is None
    assert await count_rows(federation.stores, Complaint, case_number=number) == 0
    await assert_hub_untouched(federation, HUB_MODELS)


NODE = "query($id: ID!) { node(id: $id) { id ... on Evaluation { caseNumber appealStatus } } }"


async def _numbers(federation: Federation, model: Any) -> dict[str, set[int]]:
    """The row numbers of ``model`` in each node's own store."""
    numbers: dict[str, set[int]] = {}
    for node in federation.stores:
        async with node.sessions() as session:
            numbers[node.id] = set(await session.scalars(select(model.id)))
    return numbers


def _asked(kind: str) -> Counter[Any]:
    """A lookup of a row number: each node holding the county level asked once."""
    return Counter({(node, "PublicIds", kind): 1 for node in (CITY, YUCI, TAIGU)})


async def test_an_id_of_the_previous_release_one_node_numbers_is_that_row(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = await _decided(federation)
    desk = federation.desk
    rated = await _do(desk, APPLICANT, RATE, caseNumber=number, rating="DISSATISFIED")
    eid, rid = rated["evaluation"]["id"], rated["evaluation"]["rectification"]["id"]
    async with federation.stores[YUCI].sessions() as session:
        rating = await session.scalar(select(Evaluation).where(Evaluation.case_number == number))
        opened = await session.scalar(
            select(Rectification).where(Rectification.case_number == number)
        )
    assert rating is not None and opened is not None
    # 榆次区's store alone numbers them so: the numbers name one row each
    for model, row in ((Evaluation, rating), (Rectification, opened)):
        held = await _numbers(federation, model)
        assert [n for n, ids in held.items() if row.id in ids] == [YUCI], model
    old_rating = legacy("Evaluation", Level.COUNTY, str(rating.id))
    old_rectification = legacy("Rectification", Level.COUNTY, str(opened.id))

    with calls(federation, monkeypatch) as read:
        found = await desk.run("yuci.supervisor", NODE, id=old_rating)
    with calls(federation, monkeypatch) as written:
        called = await _do(
            desk, "yuci.reviewer", CALLBACK, id=old_rectification, note="申请人表示排队时间过长"
        )

    # the row, with its current ID; the follow-up written at its node
    assert found["node"] == {"id": eid, "caseNumber": number, "appealStatus": None}
    assert called["errors"] == [], called
    assert called["rectification"]["callbackNote"] == "申请人表示排队时间过长"
    assert read == _asked("EVALUATION") + Counter({_records("EVALUATIONS"): 1})
    followed = Counter({_records("RECTIFICATIONS"): 1, FOLLOW_UP: 1})
    assert written == _asked("RECTIFICATION") + followed
    async with federation.stores[YUCI].sessions() as session:
        row = await session.get(Rectification, opened.id)
    assert row is not None and row.callback_note == "申请人表示排队时间过长"
    assert decode_id(rid).key == row.public_id
    await assert_hub_untouched(federation, HUB_MODELS)


async def test_an_id_of_the_previous_release_several_nodes_number_is_refused(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = await _numbers(federation, Evaluation)
    # the city node and 榆次区's both number a rating 1 (each store from 1)
    shared = min(n for n in held[YUCI] if sum(n in ids for ids in held.values()) > 1)
    assert [node for node, ids in held.items() if shared in ids] == [CITY, YUCI]
    old = legacy("Evaluation", Level.COUNTY, str(shared))
    async with federation.stores[YUCI].sessions() as session:
        before = await session.get(Evaluation, shared)
    assert before is not None

    with calls(federation, monkeypatch) as counted:
        read = await federation.desk.ask("jz.auditor", NODE, id=old)
        appeal = await _do(federation.desk, "yuci.receptionist", APPEAL, id=old, reason="故障")

    # neither row is chosen: a typed error telling the client to use the current ID
    assert read["data"] == {"node": None}
    assert [e["extensions"]["code"] for e in read["errors"]] == ["LEGACY_ID_AMBIGUOUS"]
    assert appeal == {
        "evaluation": None,
        "errors": [{"code": "LEGACY_ID_AMBIGUOUS", "field": ["input", "id"]}],
    }
    # only the lookups: nothing else asked, nothing written
    assert counted == _asked("EVALUATION") + _asked("EVALUATION")
    async with federation.stores[YUCI].sessions() as session:
        after = await session.get(Evaluation, shared)
    assert after is not None and after.appeal_status == before.appeal_status
    await assert_hub_untouched(federation, HUB_MODELS)


async def test_an_id_of_the_previous_release_no_node_numbers_is_not_found(
    federation: Federation,
) -> None:
    old = legacy("Rectification", Level.COUNTY, str(2**31 - 1))

    read = await federation.desk.ask("jz.auditor", NODE, id=old)
    called = await _do(federation.desk, "yuci.reviewer", CALLBACK, id=old, note="x")

    assert read == {"data": {"node": None}}
    assert called["errors"] == [{"code": "RECTIFICATION_NOT_FOUND", "field": ["input", "id"]}]


async def test_an_id_of_the_previous_release_with_a_node_silent_is_named(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """太谷区's node numbers no rectification, but without its answer the hub cannot
    know that the row 榆次区's node gives is the only one."""
    held = await _numbers(federation, Rectification)
    number = max(held[YUCI])
    async with federation.stores[YUCI].sessions() as session:
        before = await session.get(Rectification, number)
    assert before is not None
    no_answer(monkeypatch, federation.hub, TAIGU, "query")

    answer = await federation.desk.ask(
        "yuci.reviewer",
        CALLBACK,
        input={"id": legacy("Rectification", Level.COUNTY, str(number)), "note": "新的回访"},
    )

    assert_unavailable(answer, TAIGU)
    async with federation.stores[YUCI].sessions() as session:
        after = await session.get(Rectification, number)
    assert after is not None and after.callback_note == before.callback_note


async def test_a_stopped_node_is_named_and_nothing_is_written(federation: Federation) -> None:
    number = await _decided(federation)
    desk = federation.desk
    rated = await _do(desk, APPLICANT, RATE, caseNumber=number, rating="DISSATISFIED")
    eid = rated["evaluation"]["id"]
    await federation.served[YUCI].stop()

    appeal = await desk.ask("yuci.receptionist", APPEAL, input={"id": eid, "reason": "故障"})
    filed = await desk.ask(APPLICANT, FILE, input={"windowId": A01, "content": "没有叫号"})

    assert_unavailable(appeal, YUCI)
    assert_unavailable(filed, YUCI)
    async with federation.stores[YUCI].sessions() as session:
        row = await session.scalar(select(Evaluation).where(Evaluation.case_number == number))
    assert row is not None and row.appeal_status is None
    await assert_hub_untouched(federation, HUB_MODELS)
