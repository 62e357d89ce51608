"""A county's delegation written at the node that owns the county
(``delegateMatter``, ``revokeDelegation``), called as the hub calls them: a rule's
refusal comes back typed with nothing written, and a county the node does not own is
refused. (A delegation written and withdrawn through the hub is in
``tests/topology/test_remote_delegation.py``, over stores of its own.)"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from gateway.nodes import NodeRegistry
from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from levels.county.models import Delegation
from levels.outbox.models import OutboxMessage
from resolvers import nodewrites, remote
from tests.node.conftest import MakeClient
from tests.scenarios.test_delegation import FARM_MACHINERY, INSTRUMENT, XIUWEN

YUCI = "140702000000"  # 榆次区
ADMIN = {"id": "yuci.admin", "kind": "STAFF", "role": "ADMIN"}
NOW = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)


async def _counts(nodes: NodeRegistry) -> tuple[int, int]:
    async with nodes[Level.COUNTY].sessions() as session:
        delegations = await session.scalar(select(func.count()).select_from(Delegation))
        messages = await session.scalar(select(func.count()).select_from(OutboxMessage))
    return int(delegations or 0), int(messages or 0)


async def test_a_town_outside_the_county_is_refused_and_nothing_written(
    nodes: NodeRegistry, node_client: MakeClient
) -> None:
    before = await _counts(nodes)
    answer = await nodewrites.delegate_matter(
        node_client("county"),
        YUCI,
        FARM_MACHINERY,
        legal_instrument=INSTRUMENT,
        effective_from=NOW.date(),
        actor=ADMIN,
        now=NOW,
        towns=["140703100000"],
        towns_of_county=[XIUWEN],
    )
    error = remote.refusal(answer)
    assert answer["columns"] is None and error is not None
    assert (error.code.value, error.field) == ("TOWN_NOT_IN_COUNTY", ["input", "towns", "0"])
    assert await _counts(nodes) == before


async def test_an_unknown_delegation_is_not_withdrawn(
    nodes: NodeRegistry, node_client: MakeClient
) -> None:
    before = await _counts(nodes)
    answer = await nodewrites.revoke_delegation(
        node_client("county"), f"{YUCI}-G9999", "收回", actor=ADMIN, now=NOW
    )
    error = remote.refusal(answer)
    assert error is not None and error.code.value == "DELEGATION_NOT_FOUND"
    assert await _counts(nodes) == before


async def test_a_county_the_node_does_not_own_is_refused(node_client: MakeClient) -> None:
    city = node_client("city")
    with pytest.raises(DomainError) as delegating:
        await nodewrites.delegate_matter(
            city, YUCI, FARM_MACHINERY, legal_instrument=INSTRUMENT,
            effective_from=NOW.date(), actor=ADMIN, now=NOW,
        )  # fmt: skip
    assert delegating.value.code is ErrorCode.DIVISION_NOT_OWNED
    with pytest.raises(DomainError) as revoking:
        await nodewrites.revoke_delegation(city, f"{YUCI}-G0001", "收回", actor=ADMIN, now=NOW)
    assert revoking.value.code is ErrorCode.DIVISION_NOT_OWNED
