"""A licence's lifecycle through the node API: with 榆次区's node a process of its own
at an address, its director's reinstatement, suspension, revocation and reissue (换发)
of a licence that node issued go through the hub (``reinstateLicence``,
``suspendLicence``, ``revokeLicence``, ``reissueLicence``) to the node
(``changeLicence``), after the hub's permission check on the master row it read there
(``_entities`` of ``ELicence``): the node's store has the change, its audit event and
the library's copy in its outbox, a reissue signed with the org's key it keeps; the
hub's own store for that node stays empty. A node's typed refusal comes back as the
same error; a node that does not answer is NODE_UNAVAILABLE naming it, and nothing is
written."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from levels.audit.models import AuditEvent
from levels.common.errors import DomainError, ErrorCode
from levels.licences.enums import LicenceStatus
from levels.licences.models import ELicence, LicenceKey
from levels.licences.tokens import token_kid
from levels.outbox.models import OutboxMessage
from resolvers import nodewrites
from tests.scenarios.desk import at
from tests.scenarios.test_licence_lifecycle import CHANGE, REISSUE
from tests.support.federation import YUCI, Federation, assert_hub_untouched, count_rows
from tests.support.outages import assert_unavailable
from tests.topology.test_remote_reads import calls

COUNTY = "140702000000"  # 榆次区
TOWN = "140702101000"  # 修文镇
AT_THE_NODE = Counter({(YUCI, "Entities", None): 1, (YUCI, "ChangeLicence", None): 1})


# what the hub's own store for Yuci must never hold: the writes went to the node
HUB_MODELS = (ELicence, AuditEvent, OutboxMessage)


async def _licence(federation: Federation, division: str, status: LicenceStatus) -> ELicence:
    """A demo licence issued by ``division``'s org, as 榆次区's node keeps it."""
    async with federation.stores[YUCI].sessions() as session:
        row = await session.scalar(
            select(ELicence)
            .where(ELicence.issuer_division_code == division, ELicence.status == status)
            .order_by(ELicence.id)
            .limit(1)
        )
    assert row is not None, (division, status)
    return row


async def _row(federation: Federation, identifier: str) -> ELicence:
    async with federation.stores[YUCI].sessions() as session:
        row = await session.get(ELicence, identifier)
    assert row is not None
    return row


async def _change(federation: Federation, who: str, name: str, **input: Any) -> dict[str, Any]:
    data = await federation.desk.run(who, CHANGE.format(name=name), input=input)
    payload: dict[str, Any] = data[name]
    return payload


def _codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


async def test_a_licence_is_reinstated_and_suspended_by_its_node(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    licence = await _licence(federation, COUNTY, LicenceStatus.SUSPENDED)
    events = await count_rows(federation.stores, AuditEvent)
    sent = await count_rows(federation.stores, OutboxMessage)
    await assert_hub_untouched(federation, HUB_MODELS)

    with calls(federation, monkeypatch) as reinstating:
        back = await _change(federation, "yuci.director", "reinstateLicence", id=licence.id)

    assert back["errors"] == [], back
    assert back["licence"]["status"] == "VALID"
    # the master read at its node for the hub's check, then the change made there
    assert reinstating == AT_THE_NODE
    row = await _row(federation, licence.id)
    assert (row.status, row.revision) == (LicenceStatus.VALID, licence.revision + 1)
    assert await count_rows(federation.stores, AuditEvent) == events + 1
    assert await count_rows(federation.stores, OutboxMessage) == sent + 1  # the library's copy

    # the node's typed refusals, nothing written
    again = await _change(federation, "yuci.director", "reinstateLicence", id=licence.id)
    assert _codes(again) == ["INVALID_LICENCE_TRANSITION"]
    no_reason = await _change(federation, "yuci.director", "suspendLicence", id=licence.id)
    assert _codes(no_reason) == ["REASON_REQUIRED"]
    # the hub's check on the row it read: not the issuer's director
    not_theirs = await _change(
        federation, "jz.director", "suspendLicence", id=licence.id, reason="x"
    )
    assert _codes(not_theirs) == ["NOT_THE_ISSUER"]
    assert (await _row(federation, licence.id)).revision == licence.revision + 1

    with calls(federation, monkeypatch) as suspending:
        suspended = await _change(
            federation, "yuci.director", "suspendLicence", id=licence.id, reason="复查"
        )
    assert suspended["errors"] == [] and suspended["licence"]["status"] == "SUSPENDED"
    assert suspending == AT_THE_NODE
    assert await count_rows(federation.stores, AuditEvent) == events + 2
    await assert_hub_untouched(federation, HUB_MODELS)


async def test_a_licence_is_reissued_and_signed_at_its_node(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    licence = await _licence(federation, TOWN, LicenceStatus.VALID)
    until = (licence.valid_until or dt.date(2030, 1, 1)) + dt.timedelta(days=30)

    with calls(federation, monkeypatch) as reissuing:
        data = await federation.desk.run(
            "xiuwen.director",
            REISSUE,
            input={
                "id": licence.id,
                "reason": "经营范围变更",
                "fields": [{"key": "scope", "value": "日用百货零售"}],
                "validUntil": until.isoformat(),
            },
        )
    new = data["reissueLicence"]

    assert new["errors"] == [], new
    # and the new licence's type for the payload, at the city node keeping the types
    assert reissuing == AT_THE_NODE + Counter({("jinzhong", "OrgRecords", "LICENCE_TYPES"): 1})
    second = new["licence"]
    assert (second["version"], second["supersedes"], second["status"]) == (2, licence.id, "VALID")
    old = await _row(federation, licence.id)
    row = await _row(federation, second["identifier"])
    assert old.status is LicenceStatus.REVOKED and old.superseded_by == row.id
    # signed with a key of the issuing org that the node keeps
    async with federation.stores[YUCI].sessions() as session:
        key = await session.get(LicenceKey, token_kid(row.token))
    assert key is not None and key.org_code == row.issuer_org_code
    await assert_hub_untouched(federation, HUB_MODELS)


async def test_a_licence_past_its_validity_is_expired_at_its_node_and_the_change_refused(
    federation: Federation,
) -> None:
    # the version reissued above, valid to a day of its own: past it, a suspension
    # marks it EXPIRED at the node first, keeps that and refuses the change
    async with federation.stores[YUCI].sessions() as session:
        licence = await session.scalar(
            select(ELicence).where(
                ELicence.issuer_division_code == TOWN,
                ELicence.status == LicenceStatus.VALID,
                ELicence.version == 2,
            )
        )
    assert licence is not None and licence.valid_until is not None
    desk = federation.desk
    clock = desk.hub.clock.instant
    await desk.travel(at(licence.valid_until + dt.timedelta(days=1), 9))
    try:
        payload = await _change(
            federation, "xiuwen.director", "suspendLicence", id=licence.id, reason="停业"
        )
    finally:
        await desk.travel(clock)

    assert _codes(payload) == ["INVALID_LICENCE_TRANSITION"]
    assert payload["licence"]["status"] == "EXPIRED"
    row = await _row(federation, licence.id)
    assert (row.status, row.revision) == (LicenceStatus.EXPIRED, licence.revision + 1)
    await assert_hub_untouched(federation, HUB_MODELS)


async def test_a_change_whose_answer_does_not_come_is_named(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    licence = await _licence(federation, COUNTY, LicenceStatus.SUSPENDED)

    async def no_answer(*_args: Any, **_kwargs: Any) -> dict[str, Any]:
        raise DomainError(ErrorCode.NODE_UNAVAILABLE, detail=f"node {YUCI}: no answer")

    monkeypatch.setattr(nodewrites, "change_licence", no_answer)
    answer = await federation.desk.ask(
        "yuci.director", CHANGE.format(name="reinstateLicence"), input={"id": licence.id}
    )

    assert_unavailable(answer, YUCI)
    assert (await _row(federation, licence.id)).revision == licence.revision
    await assert_hub_untouched(federation, HUB_MODELS)


async def test_a_stopped_node_is_named_and_nothing_is_written(federation: Federation) -> None:
    licence = await _licence(federation, COUNTY, LicenceStatus.SUSPENDED)
    events = await count_rows(federation.stores, AuditEvent)
    await federation.served[YUCI].stop()

    answer = await federation.desk.ask(
        "yuci.director",
        CHANGE.format(name="revokeLicence"),
        input={"id": licence.id, "reason": "吊销"},
    )

    assert_unavailable(answer, YUCI)
    assert (await _row(federation, licence.id)).status is LicenceStatus.SUSPENDED
    assert await count_rows(federation.stores, AuditEvent) == events
    await assert_hub_untouched(federation, HUB_MODELS)
