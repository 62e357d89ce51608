"""好差评 through the node API: with 榆次区's node a process of its own at an address,
张明's rating of his decided 榆次区 case through the hub (``rateCase``) is written by
that node (``rateCase``): the rating, the rectification a 差评 opens and their events in
the node's store, the hub's own store for the node untouched, the calls pinned. The
node's typed refusal comes back as the same error, the hub's check refuses without
asking the node, and a node that does not answer or is stopped is NODE_UNAVAILABLE
naming it, with nothing written anywhere. A rating sent with an ``Idempotency-Key`` has
its record written by the node with the rating, in the node's transaction: sent again,
it is replayed; a hub that stops before saving the answer does not rate twice."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from levels.audit.models import AuditEvent
from levels.cases.enums import CaseStatus
from levels.evaluations.models import Evaluation, Rectification
from levels.idempotency.models import IdempotencyRecord
from resolvers import node_records
from tests.auth.conftest import bearer
from tests.support.cases import copy_demo_case, unused_number
from tests.support.federation import (
    CITY,
    TAIGU,
    YUCI,
    Federation,
    assert_hub_untouched,
    count_rows,
)
from tests.support.outages import assert_unavailable, no_answer
from tests.topology.test_remote_reads import calls

APPLICANT = "resident1"
RATE = """
mutation($input: RateCaseInput!) {
  rateCase(input: $input) {
    evaluation { caseNumber rating negative channel } errors { code field }
  }
}"""

_made = iter(range(81001, 89999))


# what the hub's own store for Yuci must never hold: the writes went to the node
HUB_MODELS = (Evaluation, Rectification, AuditEvent, IdempotencyRecord)


async def _decided(federation: Federation) -> str:
    """A case of 张明's decided at 榆次区, written into that node's store (a copy of one of
    its demo cases under a number of its own, APPROVED)."""
    await federation.desk.sign_in(APPLICANT)
    subject = federation.desk.viewers[APPLICANT].subject
    async with federation.stores[YUCI].sessions() as session:
        row = await copy_demo_case(
            session,
            number=await unused_number(session, "140702000000-20261120", _made),
            applicant_id=subject,
            status=CaseStatus.APPROVED,
        )
        await session.commit()
    return row.number


async def _rate(federation: Federation, who: str, number: str, rating: str) -> dict[str, Any]:
    data = await federation.desk.run(who, RATE, input={"caseNumber": number, "rating": rating})
    payload: dict[str, Any] = data["rateCase"]
    return payload


async def test_a_bad_rating_is_written_at_the_node_with_its_rectification(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = await _decided(federation)

    with calls(federation, monkeypatch) as counted:
        rated = await _rate(federation, APPLICANT, number, "DISSATISFIED")

    assert rated["errors"] == [], rated
    assert rated["evaluation"] == {
        "caseNumber": number,
        "rating": "DISSATISFIED",
        "negative": True,
        "channel": "MOBILE",
    }
    # the case read at its node, the rating written there
    assert counted == Counter({(YUCI, "Entities", None): 1, (YUCI, "RateCase", None): 1})
    assert await count_rows(federation.stores, Evaluation, case_number=number) == 1
    assert await count_rows(federation.stores, Rectification, case_number=number) == 1
    async with federation.stores[YUCI].sessions() as session:
        actions = list(
            await session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.case_number == number)
                .order_by(AuditEvent.seq)
            )
        )
    assert actions == ["RATE_CASE", "OPEN_RECTIFICATION"]
    await assert_hub_untouched(federation, HUB_MODELS)

    # the same channel again: the node's ALREADY_RATED, nothing more written
    again = await _rate(federation, APPLICANT, number, "SATISFIED")
    assert [e["code"] for e in again["errors"]] == ["ALREADY_RATED"]
    assert await count_rows(federation.stores, Evaluation, case_number=number) == 1


async def test_another_residents_rating_is_the_hubs_refusal(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = await _decided(federation)

    with calls(federation, monkeypatch) as counted:
        refused = await _rate(federation, "resident2", number, "SATISFIED")

    assert [e["code"] for e in refused["errors"]] == ["NOT_THE_APPLICANT"]
    assert counted == Counter({(YUCI, "Entities", None): 1})  # the node not asked to write
    assert await count_rows(federation.stores, Evaluation, case_number=number) == 0
    await assert_hub_untouched(federation, HUB_MODELS)


async def test_a_rating_sent_again_with_its_key_is_not_written_twice(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = await _decided(federation)
    desk = federation.desk
    headers = {**bearer(desk.tokens[APPLICANT]), "Idempotency-Key": "rating-1"}
    variables = {"input": {"caseNumber": number, "rating": "SATISFIED"}}

    with calls(federation, monkeypatch) as counted:
        first = await desk.hub.gql.post(RATE, variables, **headers)
        again = await desk.hub.gql.post(RATE, variables, **headers)

    assert first.json()["data"]["rateCase"]["errors"] == []
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json() == first.json()
    # the key looked up at each node before and after the lock, then for the retry; the
    # rating with its record in one call, the response saved in another
    assert counted == Counter(
        {
            **{(node, "IdempotencyRecord", None): 3 for node in (CITY, YUCI, TAIGU)},
            (YUCI, "Entities", None): 1,
            (YUCI, "RateCase", None): 1,
            (YUCI, "SaveIdempotentResponse", None): 1,
        }
    )
    assert await count_rows(federation.stores, Evaluation, case_number=number) == 1
    # the record at the node, written with the rating, its response saved there
    async with federation.stores[YUCI].sessions() as session:
        record = await session.scalar(
            select(IdempotencyRecord).where(IdempotencyRecord.key == "rating-1")
        )
    assert record is not None and record.operation == "rateCase"
    assert record.response == first.content
    assert record.effect is not None and record.effect["store"] == YUCI
    assert any(row.startswith("evaluations:") for row in record.effect["rows"])
    await assert_hub_untouched(federation, HUB_MODELS)
    for at in (CITY, TAIGU):  # not kept after it ran, elsewhere
        assert await count_rows(federation.stores, IdempotencyRecord, at, key="rating-1") == 0


async def test_a_hub_that_stops_before_saving_the_answer_does_not_rate_twice(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = await _decided(federation)
    desk = federation.desk
    headers = {**bearer(desk.tokens[APPLICANT]), "Idempotency-Key": "rating-2"}
    variables = {"input": {"caseNumber": number, "rating": "SATISFIED"}}

    async def crash(*_args: Any, **_kwargs: Any) -> bool:
        raise ConnectionError("the hub stopped here")

    with monkeypatch.context() as patched:
        patched.setattr(node_records, "save", crash)
        first = await desk.hub.gql.post(RATE, variables, **headers)
    with calls(federation, monkeypatch) as counted:
        retry = await desk.hub.gql.post(RATE, variables, **headers)

    assert first.json()["data"]["rateCase"]["errors"] == []
    assert retry.status_code == 409
    (error,) = retry.json()["errors"]
    assert error["extensions"]["code"] == "IDEMPOTENCY_RESULT_UNAVAILABLE"
    assert error["extensions"]["reference"]["store"] == YUCI
    assert counted[(YUCI, "RateCase", None)] == 0  # not asked again
    assert await count_rows(federation.stores, Evaluation, case_number=number) == 1
    await assert_hub_untouched(federation, HUB_MODELS)


async def test_a_rating_whose_answer_does_not_come_is_named(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = await _decided(federation)
    no_answer(monkeypatch, federation.hub, YUCI, "_outcome_call")

    answer = await federation.desk.ask(
        APPLICANT, RATE, input={"caseNumber": number, "rating": "SATISFIED"}
    )

    assert_unavailable(answer, YUCI)
    assert await count_rows(federation.stores, Evaluation, case_number=number) == 0
    await assert_hub_untouched(federation, HUB_MODELS)


async def test_a_stopped_node_is_named_and_nothing_is_written(federation: Federation) -> None:
    number = await _decided(federation)
    await federation.served[YUCI].stop()

    answer = await federation.desk.ask(
        APPLICANT, RATE, input={"caseNumber": number, "rating": "SATISFIED"}
    )

    assert_unavailable(answer, YUCI)
    assert await count_rows(federation.stores, Evaluation, case_number=number) == 0
    await assert_hub_untouched(federation, HUB_MODELS)
