"""Delegation through the node API: with 榆次区's node a process of its own at an
address, its admin's ``delegateMatter`` and ``revokeDelegation`` go through the hub to
the node (``delegateMatter``, ``revokeDelegation``), after the hub has read the item,
the county's towns and their departments through the node's API: the node's store has
the delegation, its audit event and a message to each town in its outbox (the towns'
side arrives by message, as before); the hub's own store for that node stays empty. A
node's typed refusal comes back as the same error; a node that does not answer is
NODE_UNAVAILABLE naming it, and nothing is written."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from levels.audit.models import AuditEvent
from levels.common.errors import DomainError, ErrorCode
from levels.county.delegation import GRANTED, REVOKED
from levels.county.models import Delegation
from levels.outbox.models import OutboxMessage
from resolvers import nodewrites
from tests.conftest import DEMO_NOW
from tests.scenarios.test_delegation import DELEGATE, FARM_MACHINERY, INSTRUMENT, REVOKE, XIUWEN
from tests.support.federation import YUCI, Federation, assert_hub_untouched, count_rows
from tests.support.outages import assert_unavailable
from tests.topology.test_remote_reads import calls

ADMIN = "yuci.admin"


# what the hub's own store for Yuci must never hold: the writes went to the node
HUB_MODELS = (Delegation, AuditEvent, OutboxMessage)


def _input(**extra: Any) -> dict[str, Any]:
    return {
        "implementationCode": FARM_MACHINERY,
        "towns": [XIUWEN],
        "legalInstrument": INSTRUMENT,
        "effectiveFrom": DEMO_NOW.date().isoformat(),
        **extra,
    }


def _codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


async def test_a_matter_is_delegated_and_withdrawn_by_the_county_node(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = federation.desk
    delegations = await count_rows(federation.stores, Delegation)
    sent = await count_rows(federation.stores, OutboxMessage)
    granted = await count_rows(federation.stores, OutboxMessage, topic=GRANTED)
    revoked_before = await count_rows(federation.stores, OutboxMessage, topic=REVOKED)
    await assert_hub_untouched(federation, HUB_MODELS)

    with calls(federation, monkeypatch) as delegating:
        given = (await desk.run(ADMIN, DELEGATE, input=_input()))["delegateMatter"]

    assert given["errors"] == [], given
    made = given["delegation"]
    assert made["allTowns"] is False and made["inForce"] is True
    assert [t["code"] for t in made["towns"]] == [XIUWEN]
    # the item, the county's towns, then the delegation (and the payload's towns): all
    # at 榆次区's node
    assert delegating == Counter(
        {
            (YUCI, "Entities", None): 2,
            (YUCI, "Children", None): 1,
            (YUCI, "DelegateMatter", None): 1,
        }
    ), delegating
    key = made["id"]
    async with federation.stores[YUCI].sessions() as session:
        row = await session.scalar(select(Delegation).order_by(Delegation.id.desc()).limit(1))
    assert row is not None and row.implementation_code == FARM_MACHINERY
    assert await count_rows(federation.stores, Delegation) == delegations + 1
    assert await count_rows(federation.stores, OutboxMessage) == sent + 1  # one town
    assert await count_rows(federation.stores, OutboxMessage, topic=GRANTED) == granted + 1
    await assert_hub_untouched(federation, HUB_MODELS)

    # the node's typed refusal (the item is delegated to that town already), nothing more
    twice = (await desk.run(ADMIN, DELEGATE, input=_input()))["delegateMatter"]
    assert _codes(twice) and twice["delegation"] is None
    outside = await desk.run(ADMIN, DELEGATE, input=_input(towns=["140703100000"]))
    assert _codes(outside["delegateMatter"]) == ["TOWN_NOT_IN_COUNTY"]
    assert await count_rows(federation.stores, Delegation) == delegations + 1

    with calls(federation, monkeypatch) as revoking:
        revoked = (
            await desk.run(ADMIN, REVOKE, input={"id": key, "reason": "乡镇审核力量不足，收回实施"})
        )["revokeDelegation"]
    assert revoked["errors"] == [] and revoked["delegation"]["inForce"] is False
    assert revoking == Counter(
        {
            (YUCI, "Entities", None): 1,
            (YUCI, "Children", None): 1,
            (YUCI, "RevokeDelegation", None): 1,
        }
    ), revoking
    async with federation.stores[YUCI].sessions() as session:
        gone = await session.get(Delegation, row.id)
    assert gone is not None and gone.revoked_at is not None
    assert await count_rows(federation.stores, OutboxMessage) == sent + 2
    assert await count_rows(federation.stores, OutboxMessage, topic=REVOKED) == revoked_before + 1
    again = (await desk.run(ADMIN, REVOKE, input={"id": key, "reason": "再次"}))["revokeDelegation"]
    assert _codes(again) == ["ALREADY_REVOKED"]
    await assert_hub_untouched(federation, HUB_MODELS)


async def test_a_delegation_whose_answer_does_not_come_is_named(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    delegations = await count_rows(federation.stores, Delegation)

    async def no_answer(*_args: Any, **_kwargs: Any) -> dict[str, Any]:
        raise DomainError(ErrorCode.NODE_UNAVAILABLE, detail=f"node {YUCI}: no answer")

    monkeypatch.setattr(nodewrites, "delegate_matter", no_answer)
    answer = await federation.desk.ask(ADMIN, DELEGATE, input=_input())

    assert_unavailable(answer, YUCI)
    assert await count_rows(federation.stores, Delegation) == delegations
    await assert_hub_untouched(federation, HUB_MODELS)


async def test_a_stopped_node_is_named_and_nothing_is_written(federation: Federation) -> None:
    delegations = await count_rows(federation.stores, Delegation)
    await federation.served[YUCI].stop()

    answer = await federation.desk.ask(ADMIN, DELEGATE, input=_input())

    assert_unavailable(answer, YUCI)
    assert await count_rows(federation.stores, Delegation) == delegations
    await assert_hub_untouched(federation, HUB_MODELS)
