"""The city's licence library for a node that does not keep it: with the city node and
榆次区's node processes of their own at addresses, a card holder's case received at
榆次区's node is filled and waived from the library exactly as by SQL. The hub reads the
holder's licences at the city node (``licencesOfHolder``) and their issuers' statuses,
and sends them with the receipt (``levels/licences/held.py``): 张明's 残疾人证 makes the
station's 代办 free (``receiveForResident``) and fills the 低保 material it replaces, as
it does for a station clerk's receipt (``receiveCase``); his 营业执照 fills his food
business application (``submitCase``). The city node that does not answer is
NODE_UNAVAILABLE naming it, and nothing is written."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select

from gateway.demo.accounts import resident_id_number
from gateway.demo.cases import FOOD_BUSINESS  # 食品经营许可, 榆次区市场监督管理局
from gateway.demo.proxy import SUBSISTENCE_AUTHORIZATION
from levels.audit.models import AuditEvent
from levels.cases.models import Case, CaseMaterial
from levels.common.errors import DomainError, ErrorCode
from levels.common.models import ImplementationMaterial
from levels.common.reads import table
from levels.licences.models import ELicence
from levels.outbox.models import OutboxMessage
from levels.proxy.models import ProxyAuthorization
from levels.village.models import FeeWaiver, VillageService
from tests.scenarios.test_village_proxy import AGENT, SUBSISTENCE
from tests.support.federation import (
    CITY,
    TAIGU,
    YUCI,
    Federation,
    assert_hub_untouched,
    count_rows,
    sql_desk,
)
from tests.support.outages import assert_unavailable
from tests.topology.test_remote_reads import calls

CLERK = "xiuwencun.receptionist"  # 修文村便民服务站
HOLDER = "resident1"  # 张明: a valid 残疾人证 and 营业执照 in the library
SUBMIT = """
mutation($input: SubmitCaseInput!) {
  submitCase(input: $input) {
    case {
      number status level channel applicantName
      materials { name state source reference note }
    }
    errors { code field message }
  }
}"""
HUB_MODELS = (Case, CaseMaterial, AuditEvent, VillageService, OutboxMessage)


async def _card(federation: Federation, type_code: str = "CJRZ") -> ELicence:
    """张明's licence of ``type_code`` in the city's library."""
    async with federation.stores[CITY].sessions() as session:
        found = (
            await session.scalars(
                select(ELicence).where(
                    ELicence.type_code == type_code, ELicence.holder_name == "张明"
                )
            )
        ).all()
    assert len(found) == 1, found
    return found[0]


async def _guide(federation: Federation, code: str) -> list[ImplementationMaterial]:
    async with federation.stores[YUCI].sessions() as session:
        return list(
            await session.scalars(
                select(ImplementationMaterial)
                .where(ImplementationMaterial.implementation_code == code)
                .order_by(ImplementationMaterial.position)
            )
        )


async def _asked(federation: Federation, code: str, type_code: str) -> list[dict[str, str]]:
    """The guide's materials as paper, but the one a licence of ``type_code`` replaces."""
    guide = await _guide(federation, code)
    assert any(g.satisfied_by_licence_type == type_code for g in guide)
    return [
        {"name": g.name, "source": "PAPER"}
        for g in guide
        if g.satisfied_by_licence_type != type_code
    ]


async def _authorization(federation: Federation, card: ELicence) -> str:
    """The demo's 最低生活保障 authorization at 修文村, given by the card's holder."""
    async with federation.stores[YUCI].sessions() as session:
        model = await session.get(ProxyAuthorization, SUBSISTENCE_AUTHORIZATION)
        assert model is not None
        columns = {c.key: getattr(model, c.key) for c in table(ProxyAuthorization).columns}
        row = ProxyAuthorization(
            **{
                **columns,
                "id": uuid.uuid4().hex,
                "resident_id": card.holder_id,
                "resident_name": card.holder_name,
                "resident_id_masked": card.holder_id_masked,
            }
        )
        session.add(row)
        await session.commit()
    return row.id


def _same(payload: dict[str, Any]) -> dict[str, Any]:
    case = payload["case"]
    if case is None:
        return payload
    return {**payload, "case": {k: v for k, v in case.items() if k != "number"}}


def _filled(payload: dict[str, Any], card: ELicence) -> list[dict[str, Any]]:
    return [m for m in payload["case"]["materials"] if m["reference"] == card.id]


async def _service(federation: Federation, number: str) -> VillageService:
    async with federation.stores[YUCI].sessions() as session:
        found = await session.scalar(
            select(VillageService).where(VillageService.case_number == number)
        )
    assert found is not None
    return found


async def test_a_card_holders_proxy_receipt_is_free_and_filled_as_by_sql(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    card = await _card(federation)
    granted = await _authorization(federation, card)
    given = {
        "implementationCode": SUBSISTENCE,
        "channel": "PROXY",
        "proxyAuthorizationId": granted,
        "materials": await _asked(federation, SUBSISTENCE, "CJRZ"),
        "villageService": {"mode": "FULL_PROXY"},
    }

    with calls(federation, monkeypatch) as counted:
        payload = (await federation.desk.run(AGENT, SUBMIT, input=given))["submitCase"]

    assert payload["errors"] == [], payload
    number = payload["case"]["number"]
    assert _filled(payload, card) == [
        {
            "name": _filled(payload, card)[0]["name"],
            "state": "PROVIDED",
            "source": "LICENCE",
            "reference": card.id,
            "note": "电子证照库调取",
        }
    ]
    service = await _service(federation, number)
    assert (service.fee_fen, service.fee_waiver, service.waiver_licence_id) == (
        0,
        FeeWaiver.DISABILITY_CERTIFICATE,
        card.id,
    )
    assert counted == Counter(
        {
            (CITY, "Entities", None): 1,  # the matter
            (YUCI, "Entities", None): 1,  # the item
            (CITY, "OrgRecords", "IMPLEMENTATIONS_OF_MATTER"): 1,  # the route
            (YUCI, "OrgRecords", "IMPLEMENTATIONS_OF_MATTER"): 1,
            (TAIGU, "OrgRecords", "IMPLEMENTATIONS_OF_MATTER"): 1,
            (YUCI, "OrgRecords", "ORGS_OF_DIVISION"): 1,  # the station
            (YUCI, "OrgRecords", "PROXY_AUTHORIZATIONS"): 1,  # the resident
            (CITY, "LicencesOfHolder", None): 1,  # their licences in the library
            (YUCI, "OrgRecords", "LICENCES"): 1,  # at their issuers (both 榆次区's)
            (YUCI, "ReceiveForResident", None): 1,  # the write
            (YUCI, "CaseRecords", "MATERIALS"): 1,  # the payload's materials
        }
    )
    await assert_hub_untouched(federation, HUB_MODELS)

    # a fee is refused for him at the node as by SQL, and nothing written
    charged = {**given, "villageService": {"mode": "FULL_PROXY", "feeYuan": "5"}}
    before = await count_rows(federation.stores, Case)
    refused = (await federation.desk.run(AGENT, SUBMIT, input=charged))["submitCase"]
    assert [e["code"] for e in refused["errors"]] == ["FEE_WAIVED"]
    assert await count_rows(federation.stores, Case) == before

    async with sql_desk(federation) as by_sql:
        by_store = (await by_sql.run(AGENT, SUBMIT, input=given))["submitCase"]
        assert (await by_sql.run(AGENT, SUBMIT, input=charged))["submitCase"] == refused
    assert by_store["errors"] == [], by_store
    assert _same(by_store) == _same(payload)
    again = await _service(federation, by_store["case"]["number"])
    assert (again.fee_fen, again.fee_waiver, again.waiver_licence_id) == (
        0,
        FeeWaiver.DISABILITY_CERTIFICATE,
        card.id,
    )


async def test_a_station_clerks_receipt_is_filled_at_the_node_as_by_sql(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``receiveCase``: 修文村's clerk receives 张明's 低保 application for 榆次区."""
    card = await _card(federation)
    given = {
        "implementationCode": SUBSISTENCE,
        "channel": "COUNTER",
        "applicantIdNumber": resident_id_number(0),
        "materials": await _asked(federation, SUBSISTENCE, "CJRZ"),
    }

    with calls(federation, monkeypatch) as counted:
        payload = (await federation.desk.run(CLERK, SUBMIT, input=given))["submitCase"]

    assert payload["errors"] == [], payload
    assert payload["case"]["applicantName"] == "张明"
    assert [m["source"] for m in _filled(payload, card)] == ["LICENCE"]
    assert counted == Counter(
        {
            (CITY, "Entities", None): 1,  # the matter
            (CITY, "LicencesOfHolder", None): 1,
            (YUCI, "OrgRecords", "LICENCES"): 1,
            (YUCI, "ReceiveCase", None): 1,
            (YUCI, "CaseRecords", "MATERIALS"): 1,
        }
    )
    await assert_hub_untouched(federation, HUB_MODELS)
    async with sql_desk(federation) as by_sql:
        by_store = (await by_sql.run(CLERK, SUBMIT, input=given))["submitCase"]
    assert _same(by_store) == _same(payload)


async def test_an_applicants_own_submission_is_filled_at_the_node_as_by_sql(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``submitCase``: 张明 applies for 榆次区's food business licence; his 营业执照 is
    the library's."""
    licence = await _card(federation, "YYZZ")
    given = {
        "implementationCode": FOOD_BUSINESS,
        "channel": "MOBILE",
        "materials": await _asked(federation, FOOD_BUSINESS, "YYZZ"),
    }

    with calls(federation, monkeypatch) as counted:
        payload = (await federation.desk.run(HOLDER, SUBMIT, input=given))["submitCase"]

    assert payload["errors"] == [], payload
    assert [m["source"] for m in _filled(payload, licence)] == ["LICENCE"]
    assert counted == Counter(
        {
            (CITY, "Entities", None): 1,  # the matter
            (CITY, "LicencesOfHolder", None): 1,
            (YUCI, "OrgRecords", "LICENCES"): 1,
            (YUCI, "SubmitCase", None): 1,
            (YUCI, "CaseRecords", "MATERIALS"): 1,
        }
    )
    await assert_hub_untouched(federation, HUB_MODELS)
    async with sql_desk(federation) as by_sql:
        by_store = (await by_sql.run(HOLDER, SUBMIT, input=given))["submitCase"]
    assert _same(by_store) == _same(payload)


def _library_silent(monkeypatch: pytest.MonkeyPatch, federation: Federation) -> None:
    """The city node answers everything but the library's read by holder."""
    client = federation.hub[CITY].client
    assert client is not None
    query: Callable[..., Awaitable[Any]] = client.query

    async def silent(document: str, variables: Any = None) -> Any:
        if "licencesOfHolder" in document:
            raise DomainError(ErrorCode.NODE_UNAVAILABLE, detail=f"node {CITY}: no answer")
        return await query(document, variables)

    monkeypatch.setattr(client, "query", silent)


async def test_a_city_node_that_does_not_answer_is_named_and_nothing_is_written(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    card = await _card(federation)
    granted = await _authorization(federation, card)
    tried = [
        (
            AGENT,
            {
                "implementationCode": SUBSISTENCE,
                "channel": "PROXY",
                "proxyAuthorizationId": granted,
                "materials": await _asked(federation, SUBSISTENCE, "CJRZ"),
            },
        ),
        (
            CLERK,
            {
                "implementationCode": SUBSISTENCE,
                "channel": "COUNTER",
                "applicantIdNumber": resident_id_number(0),
                "materials": await _asked(federation, SUBSISTENCE, "CJRZ"),
            },
        ),
        (
            HOLDER,
            {
                "implementationCode": FOOD_BUSINESS,
                "channel": "MOBILE",
                "materials": await _asked(federation, FOOD_BUSINESS, "YYZZ"),
            },
        ),
    ]
    before = await count_rows(federation.stores, Case)
    _library_silent(monkeypatch, federation)

    with calls(federation, monkeypatch) as counted:
        for who, given in tried:
            assert_unavailable(await federation.desk.ask(who, SUBMIT, input=given), CITY)

    # the receiving node was never asked to write
    assert not {op for _, op, _ in counted} & {"ReceiveForResident", "ReceiveCase", "SubmitCase"}
    assert await count_rows(federation.stores, Case) == before
    await assert_hub_untouched(federation, HUB_MODELS)
