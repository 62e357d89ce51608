"""A case received below the deciding org through the node API: with 榆次区's node a
process of its own at an address, 修文村's station clerk hands in a 残疾人证 application
for 榆次区's item through the hub (``submitCase``), and the node holding 修文村 receives it
(``receiveCase``): the case numbered at the village, its materials, referral clock and
SUBMIT event in the node's store, the hub's own store for the node untouched. The case
then goes up through the hub (``referCase``), is carried to the county, told of
(``notifyStation``) and supplied at the station (``supplementAtStation``), each at the
node. A node's typed refusal comes back as the same error; a node that does not answer
or is stopped is NODE_UNAVAILABLE naming it, and nothing is written anywhere."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from levels.audit.models import AuditEvent
from levels.cases.models import Case, CaseMaterial
from levels.common.models import ImplementationMaterial
from levels.outbox.models import OutboxMessage
from tests.auth.conftest import bearer
from tests.scenarios.desk import DISABILITY_CARD
from tests.scenarios.test_referral import RESIDENT4_ID
from tests.support.federation import CITY, YUCI, Federation, assert_hub_untouched, count_rows
from tests.support.messages import carry
from tests.support.outages import assert_unavailable, no_answer
from tests.topology.test_remote_reads import calls

CLERK = "xiuwencun.receptionist"  # 修文村便民服务站
VILLAGE = "140702101201"  # 修文村
SUBMIT = """
mutation($input: SubmitCaseInput!) {
  submitCase(input: $input) {
    case { number status level } errors { code field }
  }
}"""


# what the hub's own store for Yuci must never hold: the writes went to the node
HUB_MODELS = (Case, AuditEvent, OutboxMessage, CaseMaterial)


async def _guide(federation: Federation) -> list[str]:
    async with federation.stores[YUCI].sessions() as session:
        return list(
            await session.scalars(
                select(ImplementationMaterial.name)
                .where(ImplementationMaterial.implementation_code == DISABILITY_CARD)
                .order_by(ImplementationMaterial.position)
            )
        )


def _input(materials: list[str]) -> dict[str, Any]:
    return {
        "implementationCode": DISABILITY_CARD,
        "channel": "COUNTER",
        "applicantIdNumber": RESIDENT4_ID,
        "materials": [{"name": m, "source": "PAPER"} for m in materials],
    }


async def test_a_station_receives_for_the_county_at_its_node(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    guide = await _guide(federation)
    with calls(federation, monkeypatch) as counted:
        data = await federation.desk.run(CLERK, SUBMIT, input=_input(guide[:1]))

    payload = data["submitCase"]
    assert payload["errors"] == [], payload
    clerk = federation.desk.viewers[CLERK].subject
    number = payload["case"]["number"]
    assert number.startswith(VILLAGE)
    assert (payload["case"]["status"], payload["case"]["level"]) == ("SUBMITTED", "VILLAGE")
    # the matter and the applicant's licences at the city node, their status at their
    # issuer, the case at the node holding 修文村 (and the item)
    assert counted == Counter(
        {
            (CITY, "Entities", None): 1,
            (CITY, "LicencesOfHolder", None): 1,
            (YUCI, "OrgRecords", "LICENCES"): 1,
            (YUCI, "ReceiveCase", None): 1,
        }
    )
    async with federation.stores[YUCI].sessions() as session:
        row = await session.get(Case, number)
        kept = list(
            await session.scalars(
                select(CaseMaterial.name).where(CaseMaterial.case_number == number)
            )
        )
        events = list(
            await session.scalars(
                select(AuditEvent.actor_id).where(
                    AuditEvent.case_number == number, AuditEvent.action == "SUBMIT"
                )
            )
        )
    assert row is not None and row.referral_due_on is not None
    assert set(kept) == set(guide)
    assert events == [clerk]
    await assert_hub_untouched(federation, HUB_MODELS)


REFER = """
mutation($input: ReferCaseInput!) {
  referCase(input: $input) { case { number status } errors { code field } }
}"""
NOTIFY = """
mutation($input: StationNoticeInput!) {
  notifyStation(input: $input) { case { number status } errors { code field } }
}"""
SUPPLY = """
mutation($input: SupplementInput!) {
  supplementAtStation(input: $input) { case { number status } errors { code field } }
}"""


async def test_a_received_case_goes_up_is_told_of_and_supplied_at_the_node(
    federation: Federation,
) -> None:
    desk = federation.desk
    guide = await _guide(federation)
    received = (await desk.run(CLERK, SUBMIT, input=_input(guide)))["submitCase"]
    assert received["errors"] == [], received
    number = received["case"]["number"]

    referred = (await desk.run(CLERK, REFER, input={"number": number}))["referCase"]
    assert referred["errors"] == [], referred
    # the hand-over applied at the node's store, as its message workers would
    await carry(federation.stores, desk.hub.clock)
    told = (
        await desk.run(
            "yuci.receptionist",
            NOTIFY,
            input={"number": number, "materials": [{"name": guide[0], "note": "须盖章"}]},
        )
    )["notifyStation"]
    assert told["errors"] == [], told
    supplied = (
        await desk.run(
            CLERK,
            SUPPLY,
            input={"number": number, "materials": [{"name": guide[0], "source": "PAPER"}]},
        )
    )["supplementAtStation"]
    assert supplied["errors"] == [], supplied

    async with federation.stores[YUCI].sessions() as session:
        found = (
            await session.execute(
                select(AuditEvent.division_code, AuditEvent.action)
                .where(AuditEvent.case_number == number)
                .order_by(AuditEvent.division_code, AuditEvent.seq)
            )
        ).all()
    chains: dict[str, list[str]] = {}
    for division, action in found:
        chains.setdefault(division, []).append(action)
    # every step of the case in the chain of the division that received it, at the node
    assert chains == {
        VILLAGE: ["SUBMIT", "REFER", "RECEIVE_REFERRAL", "NOTIFY_STATION", "STATION_SUPPLEMENT"]
    }
    await assert_hub_untouched(federation, HUB_MODELS)


async def test_a_refusal_at_the_node_is_typed_and_writes_nothing(federation: Federation) -> None:
    before = await count_rows(federation.stores, Case)

    data = await federation.desk.run(CLERK, SUBMIT, input=_input(["不在指南里的材料"]))

    payload = data["submitCase"]
    assert payload["case"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [
        ("MATERIAL_NOT_IN_GUIDE", ["input", "materials", "0", "name"])
    ]
    assert await count_rows(federation.stores, Case) == before
    await assert_hub_untouched(federation, HUB_MODELS)


async def test_a_receipt_sent_again_with_its_key_is_not_received_twice(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    guide = await _guide(federation)
    desk = federation.desk
    await desk.sign_in(CLERK)
    before = await count_rows(federation.stores, Case)
    headers = {**bearer(desk.tokens[CLERK]), "Idempotency-Key": "station-receipt-1"}

    with calls(federation, monkeypatch) as counted:
        first = await desk.hub.gql.post(SUBMIT, {"input": _input(guide)}, **headers)
        again = await desk.hub.gql.post(SUBMIT, {"input": _input(guide)}, **headers)

    assert first.status_code == again.status_code == 200
    assert first.json()["data"]["submitCase"]["errors"] == []
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json() == first.json()
    assert counted[(YUCI, "ReceiveCase", None)] == 1
    assert await count_rows(federation.stores, Case) == before + 1
    await assert_hub_untouched(federation, HUB_MODELS)


async def test_a_node_that_does_not_answer_is_named(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    guide = await _guide(federation)
    before = await count_rows(federation.stores, Case)
    no_answer(monkeypatch, federation.hub, YUCI, "execute")

    answer = await federation.desk.ask(CLERK, SUBMIT, input=_input(guide))

    assert_unavailable(answer, YUCI)
    assert await count_rows(federation.stores, Case) == before
    await assert_hub_untouched(federation, HUB_MODELS)


async def test_a_stopped_node_is_named_and_nothing_is_written(federation: Federation) -> None:
    guide = await _guide(federation)
    before = await count_rows(federation.stores, Case)
    await federation.served[YUCI].stop()

    answer = await federation.desk.ask(CLERK, SUBMIT, input=_input(guide))

    assert_unavailable(answer, YUCI)
    assert await count_rows(federation.stores, Case) == before
    await assert_hub_untouched(federation, HUB_MODELS)
