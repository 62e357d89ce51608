"""代办 through the node API: with 榆次区's node a process of its own at an address, 修文村's
agent hands in 赵磊's 最低生活保障 application on his authorization through the hub
(``submitCase`` with ``proxyAuthorizationId``), and the node holding 修文村 receives it
(``receiveForResident``): the authorization locked and checked, the case numbered at the
village, its SUBMIT event and the station's service record in the node's store only —
the hub's own stores and the other nodes' untouched — with the same answer as the SQL
path over the same stores, the calls pinned. An expired, revoked or foreign
authorization is the same typed error as by SQL, and writes nothing; a node that does
not answer or is stopped is NODE_UNAVAILABLE naming it, and nothing is written."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from gateway.demo.proxy import PENSION_AUTHORIZATION, SUBSISTENCE_AUTHORIZATION
from levels.audit.models import AuditEvent
from levels.cases.enums import ApplicantKind
from levels.cases.intake import Applicant, Receiver, Submission
from levels.cases.models import Case, CaseMaterial
from levels.common.clock import CHINA
from levels.common.enums import Level, VillageServiceMode
from levels.common.errors import DomainError, ErrorCode
from levels.common.models import ImplementationMaterial
from levels.common.reads import table
from levels.node.intake import encode_submission
from levels.node.proxy import ProxyReceipt, StationService, encode_receipt
from levels.proxy.models import ProxyAuthorization
from levels.village.models import VillageService
from resolvers import node_proxy_calls
from tests.auth.conftest import bearer
from tests.scenarios.test_village_proxy import (
    AGENT,
    OTHER_AGENT,
    PENSION,
    PHONE,
    RESIDENT3_ID,
    SUBSISTENCE,
    VILLAGE,
)
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
from tests.topology.test_remote_reads import calls

SUBMIT = """
mutation($input: SubmitCaseInput!) {
  submitCase(input: $input) {
    case { number status level channel applicantName applicantIdMasked materials { name } }
    errors { code field message }
  }
}"""

# what the hub's own stores must never hold: the writes went to the node
HUB_MODELS = (Case, CaseMaterial, AuditEvent, VillageService, ProxyAuthorization)


async def _guide(federation: Federation, code: str = SUBSISTENCE) -> list[str]:
    """The materials of an item of 榆次区's node (榆次区's 最低生活保障 unless told), as the
    node keeps them."""
    async with federation.stores[YUCI].sessions() as session:
        return list(
            await session.scalars(
                select(ImplementationMaterial.name)
                .where(ImplementationMaterial.implementation_code == code)
                .order_by(ImplementationMaterial.position)
            )
        )


def _input(authorization: str, guide: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "implementationCode": SUBSISTENCE,
        "channel": "PROXY",
        "proxyAuthorizationId": authorization,
        "materials": [{"name": m, "source": "PAPER"} for m in guide],
        **extra,
    }


def _same(payload: dict[str, Any]) -> dict[str, Any]:
    """A payload without what differs between two receipts: the case's number."""
    case = payload["case"]
    if case is None:
        return payload
    return {**payload, "case": {k: v for k, v in case.items() if k != "number"}}


async def _everywhere(federation: Federation, model: Any, **where: Any) -> dict[str, int]:
    """Rows of ``model`` (as ``where`` says) in each node's store and each of the hub's."""
    found = {}
    for node_id in (CITY, YUCI, TAIGU):
        found[node_id] = await count_rows(federation.stores, model, node_id, **where)
        found[f"hub:{node_id}"] = await count_rows(federation.hub, model, node_id, **where)
    return {k: v for k, v in found.items() if v}


async def _authorization(federation: Federation, **changed: Any) -> str:
    """A copy of the demo's 最低生活保障 authorization of 赵磊 at 修文村 under an id of
    its own, with the columns ``changed``, written into 榆次区's node store."""
    async with federation.stores[YUCI].sessions() as session:
        model = await session.get(ProxyAuthorization, SUBSISTENCE_AUTHORIZATION)
        assert model is not None
        columns = {c.key: getattr(model, c.key) for c in table(ProxyAuthorization).columns}
        row = ProxyAuthorization(**{**columns, "id": uuid.uuid4().hex, **changed})
        session.add(row)
        await session.commit()
    return row.id


async def test_an_agents_submission_is_received_at_the_node_as_by_sql(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    guide = await _guide(federation)
    given = _input(SUBSISTENCE_AUTHORIZATION, guide, villageService={"mode": "FULL_PROXY"})

    with calls(federation, monkeypatch) as counted:
        data = await federation.desk.run(AGENT, SUBMIT, input=given)

    payload = data["submitCase"]
    assert payload["errors"] == [], payload
    number = payload["case"]["number"]
    assert number.startswith(f"{VILLAGE}-")
    assert (payload["case"]["status"], payload["case"]["level"]) == ("SUBMITTED", "VILLAGE")
    assert payload["case"]["channel"] == "PROXY" and payload["case"]["applicantName"] == "赵磊"
    # the route's reads (the matter at the city node, its items and their delegations
    # and the station at the nodes), then one write at the node holding 修文村
    assert counted[(YUCI, "ReceiveForResident", None)] == 1
    assert counted == Counter(
        {
            (CITY, "Entities", None): 1,  # the matter
            (YUCI, "Entities", None): 1,  # the item
            (CITY, "OrgRecords", "IMPLEMENTATIONS_OF_MATTER"): 1,  # the route: every
            (YUCI, "OrgRecords", "IMPLEMENTATIONS_OF_MATTER"): 1,  # node's items of
            (TAIGU, "OrgRecords", "IMPLEMENTATIONS_OF_MATTER"): 1,  # the matter
            (YUCI, "OrgRecords", "ORGS_OF_DIVISION"): 1,  # the station
            (YUCI, "OrgRecords", "PROXY_AUTHORIZATIONS"): 1,  # the resident
            (CITY, "LicencesOfHolder", None): 1,  # their licences in the library
            (YUCI, "OrgRecords", "LICENCES"): 1,  # at their issuers
            (YUCI, "ReceiveForResident", None): 1,  # the write
            (YUCI, "CaseRecords", "MATERIALS"): 1,  # the payload's materials
        }
    )

    # the case, its events and the station's record only in the node holding 修文村
    assert await _everywhere(federation, Case, number=number) == {YUCI: 1}
    assert await _everywhere(federation, AuditEvent, case_number=number) == {YUCI: 1}
    assert await _everywhere(federation, VillageService, case_number=number) == {YUCI: 1}
    async with federation.stores[YUCI].sessions() as session:
        row = await session.get(Case, number)
        service = await session.scalar(
            select(VillageService).where(VillageService.case_number == number)
        )
        actions = set(
            await session.scalars(
                select(AuditEvent.action).where(AuditEvent.division_code == VILLAGE)
            )
        )
    assert row is not None
    assert (row.channel, row.proxy_authorization_id, row.applicant_phone) == (
        "PROXY",
        SUBSISTENCE_AUTHORIZATION,
        PHONE,
    )
    assert service is not None and (service.mode.value, service.fee_fen) == ("FULL_PROXY", 0)
    assert {"SUBMIT", "RECORD_VILLAGE_SERVICE"} <= actions
    await assert_hub_untouched(federation, HUB_MODELS)

    # the SQL path over the same stores answers the same
    async with sql_desk(federation) as by_sql:
        by_store = (await by_sql.run(AGENT, SUBMIT, input=given))["submitCase"]
    assert by_store["errors"] == [], by_store
    assert _same(by_store) == _same(payload)


async def test_the_stations_own_item_is_received_at_the_node_as_by_sql(
    federation: Federation,
) -> None:
    """城乡居民养老保险参保登记, 修文村's own immediate item: received by the station itself
    (no receiver below it), the node's store its catalogue."""
    given = {
        **_input(PENSION_AUTHORIZATION, await _guide(federation, PENSION)),
        "implementationCode": PENSION,
    }

    payload = (await federation.desk.run(AGENT, SUBMIT, input=given))["submitCase"]

    assert payload["errors"] == [], payload
    number = payload["case"]["number"]
    assert number.startswith(f"{VILLAGE}-") and payload["case"]["level"] == "VILLAGE"
    assert await _everywhere(federation, Case, number=number) == {YUCI: 1}
    assert await _everywhere(federation, VillageService, case_number=number) == {YUCI: 1}
    await assert_hub_untouched(federation, HUB_MODELS)
    async with sql_desk(federation) as by_sql:
        by_store = (await by_sql.run(AGENT, SUBMIT, input=given))["submitCase"]
    assert _same(by_store) == _same(payload)


async def _village_rows(federation: Federation) -> tuple[int, int, int]:
    """Cases, station records and audit events in 榆次区's node store."""
    stores = federation.stores
    return (
        await count_rows(stores, Case),
        await count_rows(stores, VillageService),
        await count_rows(stores, AuditEvent),
    )


async def test_a_refused_authorization_is_the_same_typed_error_and_writes_nothing(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    guide = await _guide(federation)
    expired = await _authorization(federation, expires_on=dt.date(2026, 11, 1))
    revoked = await _authorization(
        federation, revoked_at=dt.datetime(2026, 11, 19, 10, tzinfo=CHINA)
    )
    tried = [
        (AGENT, _input(expired, guide), "AUTHORIZATION_EXPIRED"),
        (AGENT, _input(revoked, guide), "AUTHORIZATION_REVOKED"),
        # 东长寿村's agent may not read 修文村's authorizations
        (OTHER_AGENT, _input(SUBSISTENCE_AUTHORIZATION, guide), "AUTHORIZATION_NOT_FOUND"),
        (AGENT, _input(uuid.uuid4().hex, guide), "AUTHORIZATION_NOT_FOUND"),
        (
            AGENT,
            _input(SUBSISTENCE_AUTHORIZATION, guide, applicantIdNumber=RESIDENT3_ID),
            "AUTHORIZATION_OTHER_RESIDENT",
        ),
        # refused by the station's record, after the case: the case goes with it
        (
            AGENT,
            _input(SUBSISTENCE_AUTHORIZATION, guide, villageService={"feeYuan": "5"}),
            "AGE_UNKNOWN",
        ),
        (
            AGENT,
            _input(SUBSISTENCE_AUTHORIZATION, guide, villageService={"mode": "IMMEDIATE"}),
            "MODE_NOT_OFFERED",
        ),
    ]
    before = await _village_rows(federation)
    answers = []
    with calls(federation, monkeypatch) as counted:
        for who, given, code in tried:
            payload = (await federation.desk.run(who, SUBMIT, input=given))["submitCase"]
            assert payload["case"] is None and [e["code"] for e in payload["errors"]] == [code]
            answers.append(payload)
    # each refused by the node's write, in its transaction
    assert counted[(YUCI, "ReceiveForResident", None)] == len(tried)
    assert await _village_rows(federation) == before
    await assert_hub_untouched(federation, HUB_MODELS)

    async with sql_desk(federation) as by_sql:
        for (who, given, _code), answer in zip(tried, answers, strict=True):
            assert (await by_sql.run(who, SUBMIT, input=given))["submitCase"] == answer, given
    assert await _village_rows(federation) == before


async def test_a_submission_sent_again_with_its_key_is_not_received_twice(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    guide = await _guide(federation)
    desk = federation.desk
    await desk.sign_in(AGENT)
    before = await count_rows(federation.stores, Case)
    headers = {**bearer(desk.tokens[AGENT]), "Idempotency-Key": "station-proxy-1"}
    given = {"input": _input(SUBSISTENCE_AUTHORIZATION, guide)}

    with calls(federation, monkeypatch) as counted:
        first = await desk.hub.gql.post(SUBMIT, given, **headers)
        again = await desk.hub.gql.post(SUBMIT, given, **headers)

    assert first.status_code == again.status_code == 200
    assert first.json()["data"]["submitCase"]["errors"] == []
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json() == first.json()
    assert counted[(YUCI, "ReceiveForResident", None)] == 1
    assert await count_rows(federation.stores, Case) == before + 1
    await assert_hub_untouched(federation, HUB_MODELS)


async def test_a_node_refuses_a_village_it_does_not_hold(federation: Federation) -> None:
    """太谷区's node is asked to receive at 修文村 (榆次区's): DIVISION_NOT_OWNED."""
    client = federation.hub[TAIGU].client
    assert client is not None
    submission = Submission(
        implementation_code=SUBSISTENCE,
        matter_name="最低生活保障审批",
        legal_limit_days=20,
        applicant=Applicant(ApplicantKind.PERSON, "", "", ""),
        channel="PROXY",
        materials=[],
        received_by=Receiver(Level.VILLAGE, "12140702MB1012011N", VILLAGE),
    )
    receipt = ProxyReceipt(
        SUBSISTENCE_AUTHORIZATION,
        VILLAGE,
        "000500100100",
        None,
        (VillageServiceMode.FULL_PROXY,),
        StationService(),
        70,
    )
    with pytest.raises(DomainError) as refused:
        await node_proxy_calls.receive_for_resident(
            client,
            encode_submission(submission),
            encode_receipt(receipt),
            actor={"id": "agent", "kind": "AGENT"},
            now=dt.datetime(2026, 11, 20, 10, tzinfo=CHINA),
        )
    assert refused.value.code is ErrorCode.DIVISION_NOT_OWNED


async def test_a_node_that_does_not_answer_is_named_and_nothing_is_written(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    guide = await _guide(federation)
    before = await _village_rows(federation)
    # the route's reads answer; the write does not
    no_answer(monkeypatch, federation.hub, YUCI, "_outcome_call")

    answer = await federation.desk.ask(
        AGENT, SUBMIT, input=_input(SUBSISTENCE_AUTHORIZATION, guide)
    )

    assert_unavailable(answer, YUCI)
    assert await _village_rows(federation) == before
    await assert_hub_untouched(federation, HUB_MODELS)


async def test_a_stopped_node_is_named_and_nothing_is_written(federation: Federation) -> None:
    guide = await _guide(federation)
    before = await _village_rows(federation)
    await federation.served[YUCI].stop()

    answer = await federation.desk.ask(
        AGENT, SUBMIT, input=_input(SUBSISTENCE_AUTHORIZATION, guide)
    )

    assert_unavailable(answer, YUCI)
    assert await _village_rows(federation) == before
    await assert_hub_untouched(federation, HUB_MODELS)
