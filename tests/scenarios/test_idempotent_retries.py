"""Idempotent retries over HTTP: the mobile app on a flaky network submits with an
``Idempotency-Key`` and sends again when the answer is lost; the 榆次区 county system
(a machine client, private_key_jwt) refers a case the same way. However often the
request comes, there is one case and one outbox message, and every retry gets the
first answer byte for byte."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from gateway.demo.accounts import resident_id_number
from gateway.nodes import NodeRegistry
from levels.cases.models import Case
from levels.common.enums import Level
from levels.idempotency import service
from levels.idempotency.models import IdempotencyRecord
from levels.outbox.models import OutboxMessage
from tests.auth.conftest import bearer, own_hub
from tests.auth.test_policy_matrix import _client_token
from tests.conftest import DEMO_NOW
from tests.scenarios.desk import DISABILITY_CARD, SUBMIT, Desk

REFER = """
mutation($input: ReferCaseInput!) {
  referCase(input: $input) { case { number status level version } errors { code field } }
}"""
CITY_ITEMS = """
query { matterImplementations(filter: {divisionCode: "140700000000", level: CITY,
                                       keyword: "见义勇为"}) {
  edges { node { implementationCode materials { name } } } } }"""


async def count(nodes: NodeRegistry, level: Level, model: Any) -> int:
    async with nodes[level].sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def new_key() -> str:
    return f"app-{uuid.uuid4()}"


async def submission(desk: Desk) -> dict[str, Any]:
    """resident1's 残疾人证 application from the phone, every material attached."""
    materials = await desk.materials("000700400100")
    given = [
        {"name": m, "source": "FILE", "reference": f"file-{i}"} for i, m in enumerate(materials)
    ]
    return {"implementationCode": DISABILITY_CARD, "channel": "MOBILE", "materials": given}


async def keyed(
    desk: Desk,
    token: str,
    query: str,
    variables: dict[str, Any],
    key: str | bytes,
    **headers: str,
) -> httpx.Response:
    return await desk.hub.gql.post(
        query,
        variables,
        **bearer(token),
        **{"idempotency-key": key},
        **headers,  # type: ignore[arg-type]
    )


def codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json()["errors"]]


async def test_a_submission_sent_twice_makes_one_case(desk: Desk, nodes: NodeRegistry) -> None:
    input = await submission(desk)
    token, key = desk.tokens["resident1"], new_key()
    cases_before = await count(nodes, Level.COUNTY, Case)
    first = await keyed(desk, token, SUBMIT, {"input": input}, key)
    assert first.status_code == 200, first.text
    assert "idempotent-replayed" not in first.headers
    case = first.json()["data"]["submitCase"]["case"]
    assert case["status"] == "SUBMITTED"
    # the answer was lost: the phone sends the same request again, twice
    for _ in range(2):
        again = await keyed(desk, token, SUBMIT, {"input": input}, key)
        assert again.status_code == 200
        assert again.headers["idempotent-replayed"] == "true"
        assert again.content == first.content
    assert await count(nodes, Level.COUNTY, Case) == cases_before + 1
    # the record sits in the store of the case, with the response
    async with nodes[Level.COUNTY].sessions() as session:
        record = await session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == key))
    assert record is not None and record.operation == "submitCase"
    assert record.response == first.content
    assert record.effect is not None and f"cases:{case['number']}" in record.effect["rows"]
    # without the key the same request is a new application
    plain = await desk.hub.gql.post(SUBMIT, {"input": input}, **bearer(token))
    assert plain.json()["data"]["submitCase"]["case"]["number"] != case["number"]
    assert await count(nodes, Level.COUNTY, Case) == cases_before + 2


async def test_a_county_system_referral_retried_sends_one_message(
    desk: Desk, nodes: NodeRegistry, settings: Any
) -> None:
    await desk.travel(DEMO_NOW)
    (item,) = (await desk.run("resident1", CITY_ITEMS))["matterImplementations"]["edges"]
    number = (
        await desk.submit(
            "yuci.receptionist",
            item["node"]["implementationCode"],
            [m["name"] for m in item["node"]["materials"]],
            channel="COUNTER",
            applicantIdNumber=resident_id_number(1),
        )
    )["case"]["number"]
    system = await _client_token(desk.hub.gql.http, settings, "client:yuci-system")
    outbox_before = await count(nodes, Level.COUNTY, OutboxMessage)
    key = f"yuci-{uuid.uuid4().hex}"
    first = await keyed(desk, system, REFER, {"input": {"number": number}}, key)
    assert first.json()["data"]["referCase"]["errors"] == [], first.text
    again = await keyed(desk, system, REFER, {"input": {"number": number}}, key)
    assert (again.status_code, again.content) == (200, first.content)
    assert again.headers["idempotent-replayed"] == "true"
    assert await count(nodes, Level.COUNTY, OutboxMessage) == outbox_before + 1
    # the same key for another request is a mistake of the client's
    other = await keyed(desk, system, REFER, {"input": {"number": number, "opinion": "同意"}}, key)
    assert other.status_code == 422
    assert codes(other) == ["IDEMPOTENCY_KEY_REUSED"]
    # keys are the client's own: another county system's same key is not a replay
    taigu = await _client_token(desk.hub.gql.http, settings, "client:taigu-system")
    theirs = await keyed(desk, taigu, REFER, {"input": {"number": number}}, key)
    assert "idempotent-replayed" not in theirs.headers
    assert [e["code"] for e in theirs.json()["data"]["referCase"]["errors"]] == ["CASE_NOT_FOUND"]
    assert await count(nodes, Level.COUNTY, OutboxMessage) == outbox_before + 1


async def test_duplicates_sent_at_once_make_one_case(desk: Desk, nodes: NodeRegistry) -> None:
    input = await submission(desk)
    token, key = desk.tokens["resident1"], new_key()
    cases_before = await count(nodes, Level.COUNTY, Case)
    responses = await asyncio.gather(
        *(keyed(desk, token, SUBMIT, {"input": input}, key) for _ in range(4))
    )
    assert await count(nodes, Level.COUNTY, Case) == cases_before + 1
    ran = [r for r in responses if r.status_code == 200 and "idempotent-replayed" not in r.headers]
    assert len(ran) == 1
    for r in responses:
        if r is ran[0]:
            continue
        if r.status_code == 409:
            assert codes(r) == ["IDEMPOTENCY_IN_PROGRESS"]
        else:
            assert (r.status_code, r.content) == (200, ran[0].content)
    # once it is done, a retry is the replay
    late = await keyed(desk, token, SUBMIT, {"input": input}, key)
    assert late.content == ran[0].content and late.headers["idempotent-replayed"] == "true"


async def test_two_replicas_without_redis_make_one_case(
    desk: Desk, nodes: NodeRegistry, settings: Any
) -> None:
    """Two hub processes over the same stores, each with its own in-process lock (no
    Redis): both run the request, and the record's primary key lets one commit."""
    input = await submission(desk)
    token, key = desk.tokens["resident1"], new_key()
    cases_before = await count(nodes, Level.COUNTY, Case)
    async with own_hub(settings, nodes, redis_url=None) as other:
        other_token = (await other.app.state.identity.issue(desk.viewers["resident1"])).token
        responses = await asyncio.gather(
            keyed(desk, token, SUBMIT, {"input": input}, key),
            other.gql.post(
                SUBMIT, {"input": input}, **bearer(other_token), **{"idempotency-key": key}
            ),
        )
    assert await count(nodes, Level.COUNTY, Case) == cases_before + 1
    ran = [r for r in responses if r.status_code == 200 and "idempotent-replayed" not in r.headers]
    assert len(ran) == 1, [r.text for r in responses]
    (twin,) = [r for r in responses if r is not ran[0]]
    if twin.status_code == 409:
        assert codes(twin) == ["IDEMPOTENCY_IN_PROGRESS"]
    else:
        assert (twin.status_code, twin.content) == (200, ran[0].content)
    late = await keyed(desk, token, SUBMIT, {"input": input}, key)
    assert late.content == ran[0].content and late.headers["idempotent-replayed"] == "true"


async def test_a_hub_that_stops_before_saving_the_answer_does_not_apply_twice(
    desk: Desk, nodes: NodeRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The case is committed with its record; saving the response fails (the process
    dies there). A retry does not submit again: it gets the case's reference."""
    input = await submission(desk)
    token, key = desk.tokens["resident1"], new_key()
    cases_before = await count(nodes, Level.COUNTY, Case)

    async def crash(*_args: Any, **_kwargs: Any) -> bool:
        raise ConnectionError("the hub stopped here")

    with monkeypatch.context() as patched:
        patched.setattr(service, "save_response", crash)
        first = await keyed(desk, token, SUBMIT, {"input": input}, key)
    number = first.json()["data"]["submitCase"]["case"]["number"]
    retry = await keyed(desk, token, SUBMIT, {"input": input}, key, **{"accept-language": "en"})
    assert retry.status_code == 409
    (error,) = retry.json()["errors"]
    assert error["extensions"]["code"] == "IDEMPOTENCY_RESULT_UNAVAILABLE"
    assert error["message"].startswith("The request was carried out")
    reference = error["extensions"]["reference"]
    assert reference["store"] == "county" and f"cases:{number}" in reference["rows"]
    assert await count(nodes, Level.COUNTY, Case) == cases_before + 1
    # the resident reads the case by that number
    read = await desk.ask(
        "resident1", "query($n: String!) { case(number: $n) { status } }", n=number
    )
    assert read["data"]["case"]["status"] == "SUBMITTED"


async def test_a_refused_mutation_replays_its_errors(desk: Desk, nodes: NodeRegistry) -> None:
    input = {**(await submission(desk)), "implementationCode": "14070200000000000"}
    token, key = desk.tokens["resident1"], new_key()
    cases_before = await count(nodes, Level.COUNTY, Case)
    first = await keyed(desk, token, SUBMIT, {"input": input}, key)
    payload = first.json()["data"]["submitCase"]
    assert [e["code"] for e in payload["errors"]] == ["INVALID_IMPLEMENTATION_CODE"]
    assert payload["case"] is None
    again = await keyed(desk, token, SUBMIT, {"input": input}, key)
    assert (again.content, again.headers["idempotent-replayed"]) == (first.content, "true")
    assert await count(nodes, Level.COUNTY, Case) == cases_before
    # it wrote nothing: its record is kept in the city store, without an effect
    async with nodes[Level.CITY].sessions() as session:
        record = await session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == key))
    assert record is not None and record.effect is None and record.response == first.content


async def test_malformed_keys_are_refused_and_keys_on_queries_ignored(
    desk: Desk, nodes: NodeRegistry
) -> None:
    input = await submission(desk)
    token = desk.tokens["resident1"]
    cases_before = await count(nodes, Level.COUNTY, Case)
    for bad in ("", "   ", "x" * 256, "a\tb", "键".encode()):
        response = await keyed(desk, token, SUBMIT, {"input": input}, bad)
        assert response.status_code == 400, (bad, response.text)
        assert codes(response) == ["IDEMPOTENCY_KEY_INVALID"]
    assert await count(nodes, Level.COUNTY, Case) == cases_before
    # a query is safe to repeat: its key, good or bad, changes nothing
    query = await keyed(desk, token, "{ me { username } }", {}, "")
    assert query.status_code == 200 and query.json()["data"]["me"]["username"] == "resident1"
    # a quoted key (a structured-field string, as the draft writes it) is the same key
    key = new_key()
    first = await keyed(desk, token, SUBMIT, {"input": input}, key)
    quoted = await keyed(desk, token, SUBMIT, {"input": input}, f'"{key}"')
    assert quoted.content == first.content and quoted.headers["idempotent-replayed"] == "true"
