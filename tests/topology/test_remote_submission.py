"""A case submitted through the hub for an item of 榆次区, whose node is a process of its
own at an address, is received by that node (``submitCase``): the node's store has the
case, its materials, timers and SUBMIT event, the hub's own store for the node stays
empty; a refusal of the node's rules comes back typed with nothing written, and a node
that does not answer is NODE_UNAVAILABLE naming it.

The catalogue (the matter's name and limits) is read through the city node's API: the
hub's own stores hold no matter."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from levels.audit.models import AuditEvent
from levels.cases.models import Case, CaseTimer
from levels.city.models import Matter
from levels.common.models import ImplementationMaterial
from tests.scenarios.desk import DISABILITY_CARD, SUBMIT
from tests.support.federation import YUCI, Federation, count_rows
from tests.support.outages import assert_unavailable, no_answer

APPLICANT = "resident1"


async def _ready(federation: Federation) -> list[str]:
    """The item's guide at 榆次区's node (the matter is the city node's alone)."""
    async with federation.stores[YUCI].sessions() as session:
        guide = list(
            await session.scalars(
                select(ImplementationMaterial.name)
                .where(ImplementationMaterial.implementation_code == DISABILITY_CARD)
                .order_by(ImplementationMaterial.position)
            )
        )
    # the hub's stores hold no matter: it can only come from the city node's API
    for node in federation.hub:
        async with node.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Matter)) == 0
    return guide


def _input(materials: list[str]) -> dict[str, Any]:
    given = [
        {"name": m, "source": "FILE", "reference": f"file-{i}"} for i, m in enumerate(materials)
    ]
    return {"implementationCode": DISABILITY_CARD, "channel": "MOBILE", "materials": given}


async def test_a_case_for_yucis_item_is_received_by_its_node(federation: Federation) -> None:
    guide = await _ready(federation)

    data = await federation.desk.run(APPLICANT, SUBMIT, input=_input(guide))

    payload = data["submitCase"]
    assert payload["errors"] == []
    number = payload["case"]["number"]
    assert payload["case"]["status"] == "SUBMITTED"
    async with federation.stores[YUCI].sessions() as session:
        row = await session.get(Case, number)
        timers = list(
            await session.scalars(select(CaseTimer).where(CaseTimer.case_number == number))
        )
        events = list(
            await session.scalars(select(AuditEvent.action).where(AuditEvent.case_number == number))
        )
    assert row is not None and row.applicant_id == federation.desk.viewers[APPLICANT].subject
    assert timers
    assert events == ["SUBMIT"]
    # written at the node, not by the hub
    assert await count_rows(federation.hub, Case) == 0
    assert await count_rows(federation.hub, AuditEvent) == 0


async def test_a_refusal_at_the_node_is_typed_and_writes_nothing(federation: Federation) -> None:
    await _ready(federation)
    before = await count_rows(federation.stores, Case)

    data = await federation.desk.run(APPLICANT, SUBMIT, input=_input(["不在指南里的材料"]))

    payload = data["submitCase"]
    assert payload["case"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [
        ("MATERIAL_NOT_IN_GUIDE", ["input", "materials", "0", "name"])
    ]
    assert await count_rows(federation.stores, Case) == before
    assert await count_rows(federation.hub, Case) == 0


async def test_a_node_that_does_not_answer_is_named(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    guide = await _ready(federation)
    before = await count_rows(federation.stores, Case)
    no_answer(monkeypatch, federation.hub, YUCI, "submit_case")
    answer = await federation.desk.ask(APPLICANT, SUBMIT, input=_input(guide))

    assert_unavailable(answer, YUCI)
    assert await count_rows(federation.stores, Case) == before
    assert await count_rows(federation.hub, Case) == 0
