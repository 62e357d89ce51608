"""A licence changed at the node that issued it (``changeLicence``), called as the hub
calls it: the node suspends, reinstates, revokes or reissues it by the rules of
``levels/licences`` in its own transaction, with its audit event and the library's
copy in its outbox; a rule's refusal comes back typed with nothing written; the
library's copy at the city node is not the city's to change."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from gateway.nodes import NodeRegistry
from levels.audit.models import AuditEvent
from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from levels.licences.enums import LicenceStatus
from levels.licences.identifiers import make_licence_id, parse_licence_id
from levels.licences.models import ELicence
from levels.outbox.models import OutboxMessage
from resolvers import nodewrites, remote
from tests.node.conftest import MakeClient

YUCI = "140702000000"  # 榆次区
DIRECTOR = {"id": "yuci.director", "kind": "STAFF", "role": "DIRECTOR"}


async def _suspended(nodes: NodeRegistry) -> ELicence:
    """The demo's licence of 榆次区 that its director suspended (firm3's 农药经营许可证)."""
    async with nodes[Level.COUNTY].sessions() as session:
        row = await session.scalar(
            select(ELicence).where(
                ELicence.issuer_division_code == YUCI,
                ELicence.issuer_level == Level.COUNTY,
                ELicence.superseded_by.is_(None),
            )
        )
    assert row is not None
    return row


async def _count(nodes: NodeRegistry, model: Any, **where: Any) -> int:
    async with nodes[Level.COUNTY].sessions() as session:
        stmt = select(func.count()).select_from(model)
        for column, value in where.items():
            stmt = stmt.where(getattr(model, column) == value)
        return int(await session.scalar(stmt) or 0)


async def test_a_licence_is_reinstated_and_suspended_at_its_node(
    nodes: NodeRegistry, node_client: MakeClient
) -> None:
    licence = await _suspended(nodes)
    county = node_client("county")
    now = licence.status_changed_at or licence.issued_at
    events = await _count(nodes, AuditEvent, division_code=YUCI)
    sent = await _count(nodes, OutboxMessage)

    status = licence.status
    first = "REINSTATE_LICENCE" if status is LicenceStatus.SUSPENDED else "SUSPEND_LICENCE"
    back = "SUSPEND_LICENCE" if status is LicenceStatus.SUSPENDED else "REINSTATE_LICENCE"
    moved = await nodewrites.change_licence(
        county, licence.id, first, actor=DIRECTOR, now=now, reason="核查完毕"
    )
    assert moved["error"] is None, moved
    assert moved["columns"]["revision"] == licence.revision + 1
    restored = await nodewrites.change_licence(
        county, licence.id, back, actor=DIRECTOR, now=now, reason="复查"
    )
    assert restored["error"] is None, restored
    assert restored["columns"]["status"] == status.name
    # each change with its audit event and the library's copy queued
    assert await _count(nodes, AuditEvent, division_code=YUCI) == events + 2
    assert await _count(nodes, OutboxMessage) >= sent + 2

    # a rule's refusal, typed, nothing written
    refused = await nodewrites.change_licence(
        county, licence.id, "REVOKE_LICENCE", actor=DIRECTOR, now=now
    )
    assert refused["columns"] is None
    error = remote.refusal(refused)
    assert error is not None and error.code.value == "REASON_REQUIRED"
    async with nodes[Level.COUNTY].sessions() as session:
        row = await session.get(ELicence, licence.id)
    assert row is not None and row.revision == licence.revision + 2


async def test_the_library_copy_is_not_the_city_nodes_to_change(
    nodes: NodeRegistry, node_client: MakeClient
) -> None:
    licence = await _suspended(nodes)
    city = node_client("city")
    with pytest.raises(DomainError) as refused:
        await nodewrites.change_licence(
            city, licence.id, "REVOKE_LICENCE", actor=DIRECTOR, now=licence.issued_at, reason="x"
        )
    assert refused.value.code is ErrorCode.DIVISION_NOT_OWNED


async def test_an_unknown_licence_or_action_is_refused(
    nodes: NodeRegistry, node_client: MakeClient
) -> None:
    licence = await _suspended(nodes)
    county = node_client("county")
    parsed = parse_licence_id(licence.id)
    unknown = make_licence_id(parsed.type_code, parsed.issuer_org_code, 999999, 1)
    missing = await nodewrites.change_licence(
        county, unknown, "REVOKE_LICENCE", actor=DIRECTOR, now=licence.issued_at, reason="x"
    )
    error = remote.refusal(missing)
    assert missing["columns"] is None and error is not None
    assert error.code.value == "LICENCE_NOT_FOUND"
    with pytest.raises(DomainError) as bad:
        await nodewrites.change_licence(
            county, licence.id, "BURN_LICENCE", actor=DIRECTOR, now=licence.issued_at
        )
    assert bad.value.code is ErrorCode.BAD_USER_INPUT
