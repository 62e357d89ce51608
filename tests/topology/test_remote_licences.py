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

import asyncio
import dataclasses
import datetime as dt
import json
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import jwt
import pytest
from sqlalchemy import select

from gateway.demo.accounts import resident_id_number
from gateway.demo.licences import INDIVIDUAL_BUSINESS, XIUWEN, implementation
from levels.audit.models import AuditEvent
from levels.common.errors import DomainError, ErrorCode
from levels.common.models import ImplementationMaterial, ServiceOrg
from levels.licences.enums import LicenceStatus, VerificationReason
from levels.licences.models import ELicence, LicenceKey
from levels.licences.offline import Kit, verify_offline
from levels.licences.tokens import token_kid
from levels.outbox.models import OutboxMessage
from resolvers import node_licence_calls, nodewrites
from resolvers.licensing import Licensing
from resolvers.registry import count_statements
from tests.conftest import DEMO_NOW, TEST_SECRET
from tests.scenarios.desk import SUBMIT, at
from tests.scenarios.test_licence_lifecycle import CHANGE, REISSUE
from tests.support.federation import (
    CITY,
    TAIGU,
    YUCI,
    Federation,
    assert_hub_untouched,
    count_rows,
    sql_desk,
)
from tests.support.node_process import GOVHUB, govhub_env
from tests.support.outages import assert_unavailable
from tests.topology.test_remote_reads import calls

STATUS_LIST_MISSING = VerificationReason.STATUS_LIST_MISSING
COUNTY = "140702000000"  # 榆次区
TOWN = "140702101000"  # 修文镇
TOWN_CLERK = "xiuwen.receptionist"
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


async def _registered(federation: Federation) -> ELicence:
    """A 营业执照 of the test's own: 修文镇's counter registers an individual business
    for a resident holding none, through the hub and 榆次区's node (the demo's licences,
    张明's among them, are what the other modules read)."""
    code = implementation(XIUWEN, INDIVIDUAL_BUSINESS)
    async with federation.stores[YUCI].sessions() as session:
        guide = await session.scalars(
            select(ImplementationMaterial.name)
            .where(ImplementationMaterial.implementation_code == code)
            .order_by(ImplementationMaterial.position)
        )
        materials = [{"name": name, "source": "PAPER"} for name in guide]
    desk = federation.desk
    submitted = (
        await desk.run(
            TOWN_CLERK,
            SUBMIT,
            input={
                "implementationCode": code,
                "channel": "COUNTER",
                "materials": materials,
                "applicantIdNumber": resident_id_number(1),  # resident2
            },
        )
    )["submitCase"]
    assert submitted["errors"] == [], submitted
    number = submitted["case"]["number"]
    fields = [{"key": "scope", "value": "日用百货零售"}, {"key": "address", "value": "修文镇"}]
    done = await desk.act(TOWN_CLERK, "completeCase", number=number, licenceFields=fields)
    assert done["errors"] == [], done
    async with federation.stores[YUCI].sessions() as session:
        row = await session.scalar(select(ELicence).where(ELicence.source_case_number == number))
    assert row is not None and row.status is LicenceStatus.VALID
    return row


async def test_a_licence_is_reissued_and_signed_at_its_node(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    licence = await _registered(federation)
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


async def _kit(desk: Any) -> dict[str, Any]:
    response = await desk.hub.gql.http.get("/licences/kit")
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def _opened(kit: dict[str, Any], token: str) -> tuple[str, dict[str, Any]]:
    """A status list's key id and claims, its signature checked against the kit's JWKS
    with the issuer's key (what an offline verifier trusts)."""
    header = jwt.get_unverified_header(token)
    keys = {k["kid"]: k for k in kit["jwks"]["keys"]}
    claims = jwt.decode(
        token,
        jwt.PyJWK(keys[header["kid"]]).key,
        algorithms=["ES256"],
        options={"verify_exp": False},
    )
    assert header["kid"].startswith(claims["iss"] + "-")  # the issuer's own key
    return header["kid"], claims


def _status_calls(counted: Counter[Any]) -> Counter[Any]:
    return Counter({k: n for k, n in counted.items() if k[1] == "StatusLists"})


async def _yuci_issuers(federation: Federation) -> set[str]:
    async with federation.stores[YUCI].sessions() as session:
        return set(await session.scalars(select(ELicence.issuer_org_code)))


async def _issuers(federation: Federation) -> set[str]:
    """Every issuer, from the store of the node owning its division at its level (the
    city node's copies of 榆次区's licences are the library's)."""
    found: set[str] = set()
    stores = federation.stores
    for node in stores:
        async with node.sessions() as session:
            rows = (
                await session.execute(
                    select(
                        ELicence.issuer_org_code,
                        ELicence.issuer_division_code,
                        ELicence.issuer_level,
                    ).distinct()
                )
            ).all()
        owned = [org for org, code, lv in rows if stores.owner_at(code, lv).id == node.id]
        found.update(owned)
    return found


async def test_the_kit_is_signed_at_the_nodes_as_by_sql(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    with count_statements(federation.hub) as statements, calls(federation, monkeypatch) as asked:
        kit = await _kit(federation.desk)
    async with sql_desk(federation) as by_sql:
        local = await _kit(by_sql)

    # each node asked once for its issuers' lists; the hub's own stores never read
    assert _status_calls(asked) == Counter(
        {(node.id, "StatusLists", None): 1 for node in federation.hub}
    )
    assert {n: c for n, c in statements.items() if n != "identity"} == {
        node.id: 0 for node in federation.hub
    }
    # the same kit as by SQL over the nodes' stores: the same issuers, keys and claims
    # (a signature differs each time it is made)
    issuers = await _issuers(federation)
    assert set(kit["statusLists"]) == issuers
    assert await _yuci_issuers(federation) < issuers  # and the city's own
    assert {k: v for k, v in kit.items() if k != "statusLists"} == {
        k: v for k, v in local.items() if k != "statusLists"
    }
    assert (kit["unavailableLevels"], kit["unavailableNodes"]) == ([], [])
    assert sorted(kit["statusLists"]) == sorted(local["statusLists"])
    for org, token in kit["statusLists"].items():
        assert _opened(kit, token) == _opened(local, local["statusLists"][org]), org
    # by SQL too, the city node's store signs none of the library's copies of 榆次区's
    # licences: no key of 榆次区's orgs was made there
    async with federation.stores[CITY].sessions() as session:
        made = await session.scalars(
            select(LicenceKey.kid).where(LicenceKey.org_code.in_(await _yuci_issuers(federation)))
        )
        assert list(made) == []

    # and an offline verifier holding it tells each licence's status as the store has it
    now = dt.datetime.fromisoformat(kit["generatedAt"])
    async with federation.stores[YUCI].sessions() as session:
        rows = list(await session.scalars(select(ELicence).order_by(ELicence.id)))
    seen = {row.status for row in rows}
    assert {LicenceStatus.VALID, LicenceStatus.REVOKED} <= seen, seen
    for row in rows:
        verdict = verify_offline(row.token, Kit(kit), now)
        if row.status in (LicenceStatus.REVOKED, LicenceStatus.SUSPENDED):
            assert verdict.outcome.value == row.status.value, row.id


async def test_an_issuer_s_list_is_its_node_s_as_by_sql(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = min(await _yuci_issuers(federation))
    kit = await _kit(federation.desk)
    async with federation.stores[TAIGU].sessions() as session:
        quiet = await session.scalar(select(ServiceOrg.code).order_by(ServiceOrg.code).limit(1))
    assert quiet is not None and quiet not in kit["statusLists"]  # 太谷区 issued none

    http = federation.desk.hub.gql.http
    with count_statements(federation.hub) as statements, calls(federation, monkeypatch) as asked:
        listed = await http.get(f"/licences/status/{org}")
        none = await http.get(f"/licences/status/{quiet}")
    # the node of the area the credit code names, once each
    assert asked == Counter({(YUCI, "StatusLists", None): 1, (TAIGU, "StatusLists", None): 1})
    assert not any(n for name, n in statements.items() if name != "identity")

    assert listed.status_code == 200
    assert listed.headers["content-type"].startswith("application/statuslist+jwt")
    assert none.status_code == 404
    async with sql_desk(federation) as by_sql:
        local = await by_sql.hub.gql.http.get(f"/licences/status/{org}")
        assert (await by_sql.hub.gql.http.get(f"/licences/status/{quiet}")).status_code == 404
    assert _opened(kit, listed.text) == _opened(kit, local.text)
    assert (
        _opened(kit, listed.text)[1]["lists"] == _opened(kit, kit["statusLists"][org])[1]["lists"]
    )
    bad = await http.get("/licences/status/not-a-code")
    assert bad.status_code == 400


def _signing(counted: Counter[Any]) -> Counter[Any]:
    """The calls that sign lists or read keys for them (a kit's round, an issuer's list)."""
    return Counter({k: n for k, n in counted.items() if k[1] in ("StatusLists", "LicenceKeys")})


async def test_the_kit_and_a_list_are_signed_once_in_their_max_age(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A burst of kiosks within the kit's max-age costs the nodes one round of signing,
    and requests for an issuer's list within its max-age one call; each is signed anew
    once its max-age is over (by the hub's clock), and its max-age is what is left."""
    desk = federation.desk
    http = desk.hub.gql.http
    org = min(await _yuci_issuers(federation))
    status = f"/licences/status/{org}"

    with calls(federation, monkeypatch) as burst:
        kits = await asyncio.gather(*(http.get("/licences/kit") for _ in range(5)))
        lists = await asyncio.gather(*(http.get(status) for _ in range(3)))
    one_round = Counter({(node.id, "StatusLists", None): 1 for node in federation.hub})
    assert _status_calls(burst) == one_round + Counter({(YUCI, "StatusLists", None): 1})
    assert len({k.text for k in kits}) == 1 and len({k.text for k in lists}) == 1
    assert {k.headers["cache-control"] for k in kits} == {"max-age=60"}
    assert {k.headers["cache-control"] for k in lists} == {"max-age=300"}
    made = kits[0].json()["generatedAt"]
    assert made == DEMO_NOW.isoformat()

    await desk.travel(DEMO_NOW + dt.timedelta(seconds=45))
    with calls(federation, monkeypatch) as kept:
        kit = await http.get("/licences/kit")
        listed = await http.get(status)
    assert _signing(kept) == Counter()
    assert (kit.text, kit.headers["cache-control"]) == (kits[0].text, "max-age=15")
    assert (listed.text, listed.headers["cache-control"]) == (lists[0].text, "max-age=255")

    # the kit's max-age over, the list's not
    await desk.travel(DEMO_NOW + dt.timedelta(seconds=60))
    with calls(federation, monkeypatch) as later:
        kit = await http.get("/licences/kit")
        listed = await http.get(status)
    assert _status_calls(later) == one_round
    assert kit.json()["generatedAt"] == (DEMO_NOW + dt.timedelta(seconds=60)).isoformat()
    assert kit.headers["cache-control"] == "max-age=60"
    assert listed.text == lists[0].text

    await desk.travel(DEMO_NOW + dt.timedelta(seconds=300))
    with calls(federation, monkeypatch) as last:
        listed = await http.get(status)
    assert _status_calls(last) == Counter({(YUCI, "StatusLists", None): 1})
    assert listed.text != lists[0].text  # signed anew
    assert (
        _opened(kit.json(), listed.text)[1]["lists"]
        == _opened(kits[0].json(), lists[0].text)[1]["lists"]
    )


async def test_a_change_through_the_hub_is_on_the_next_kit_and_list(
    federation: Federation,
) -> None:
    """What the hub keeps is forgotten when a licence is changed through it: the
    reinstated licence is VALID on the next kit and list, suspended again SUSPENDED (as
    the demo has it)."""
    licence = await _licence(federation, COUNTY, LicenceStatus.SUSPENDED)
    http = federation.desk.hub.gql.http
    now = federation.desk.hub.clock.now()

    async def offline() -> tuple[str, str]:
        kit = (await http.get("/licences/kit")).json()
        listed = await http.get(f"/licences/status/{licence.issuer_org_code}")
        by_list = {**kit, "statusLists": {licence.issuer_org_code: listed.text}}
        return (
            verify_offline(licence.token, Kit(kit), now).outcome.value,
            verify_offline(licence.token, Kit(by_list), now).outcome.value,
        )

    assert await offline() == ("SUSPENDED", "SUSPENDED")
    back = await _change(federation, "yuci.director", "reinstateLicence", id=licence.id)
    assert back["errors"] == [], back
    assert await offline() == ("VALID", "VALID")
    again = await _change(
        federation, "yuci.director", "suspendLicence", id=licence.id, reason="复查"
    )
    assert again["errors"] == [], again
    assert await offline() == ("SUSPENDED", "SUSPENDED")


async def test_a_node_refuses_an_org_of_an_area_not_its(federation: Federation) -> None:
    client = federation.hub[TAIGU].client
    assert client is not None
    org = min(await _yuci_issuers(federation))
    with pytest.raises(DomainError) as refused:
        await node_licence_calls.status_lists(
            client, now=federation.desk.hub.clock.now(), ttl_seconds=60, org_codes=[org]
        )
    assert refused.value.code is ErrorCode.DIVISION_NOT_OWNED


async def test_a_mixed_map_signs_by_sql_only_where_a_node_has_no_address(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """榆次区's node without an address (read by SQL over its store), the others through
    their API: the same kit, the SQL statements on 榆次区's store alone."""
    # the hub's registry (its clients of the nodes, its own empty stores for them) with
    # 榆次区's node as a map without its address gives it: its own store, by SQL
    mixed = federation.hub.replacing(dataclasses.replace(federation.stores[YUCI], client=None))
    settings = federation.desk.hub.app.state.settings
    licensing = Licensing(
        mixed,
        federation.desk.hub.clock,
        secret=settings.identity_secret(),
        status_ttl_seconds=settings.licence_status_ttl_seconds,
    )
    with count_statements(mixed) as statements, calls(federation, monkeypatch) as asked:
        kit = await licensing.kit()
        org = min(await _yuci_issuers(federation))
        one = await licensing.status_list(org, federation.desk.hub.clock.now())
    async with sql_desk(federation) as by_sql:
        local = await _kit(by_sql)

    assert set(kit["statusLists"]) == set(local["statusLists"]) == await _issuers(federation)
    for issuer, token in kit["statusLists"].items():
        assert _opened(local, token) == _opened(local, local["statusLists"][issuer]), issuer
    assert (
        one is not None
        and _opened(local, one)[1]["lists"]
        == (_opened(local, local["statusLists"][org])[1]["lists"])
    )
    # the nodes with an address asked, their stores never read; 榆次区's read, not asked
    assert _status_calls(asked) == Counter(
        {(CITY, "StatusLists", None): 1, (TAIGU, "StatusLists", None): 1}
    )
    assert statements[YUCI] > 0 and statements[CITY] == statements[TAIGU] == 0


async def test_the_kit_command_asks_the_nodes(federation: Federation, tmp_path: Path) -> None:
    """``govhub licences kit`` over the hub's map (its own stores for the nodes empty):
    the lists are the nodes'."""
    settings = federation.desk.hub.app.state.settings
    env = govhub_env(
        GOVHUB_VAR_DIR=str(settings.var_dir),
        GOVHUB_NODES=str(settings.nodes),
        GOVHUB_IDENTITY_DB_URL=str(settings.identity_db_url),
        GOVHUB_HUB_KEY_FILE=str(settings.hub_key_file),
        GOVHUB_SECRET_KEY=TEST_SECRET,
        GOVHUB_CLOCK_OVERRIDE=DEMO_NOW.isoformat(),
    )
    out = tmp_path / "kit.json"
    done = await asyncio.to_thread(
        subprocess.run,
        [str(GOVHUB), "licences", "kit", "-o", str(out)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    written = json.loads(out.read_text(encoding="utf-8"))
    assert set(written["statusLists"]) == await _issuers(federation)
    assert (
        written["unavailableNodes"] == []
        and written["jwks"] == (await _kit(federation.desk))["jwks"]
    )


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


async def test_the_kit_leaves_a_stopped_node_s_lists_out(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = min(await _yuci_issuers(federation))
    await federation.served[YUCI].stop()

    kit = await _kit(federation.desk)
    # as for a store that does not answer: its lists left out, its levels and node named
    assert kit["unavailableNodes"] == [YUCI]
    # and such a kit is not kept: the next request asks the nodes again
    with calls(federation, monkeypatch) as asked:
        assert (await _kit(federation.desk))["unavailableNodes"] == [YUCI]
    assert {(CITY, "StatusLists", None), (TAIGU, "StatusLists", None)} <= set(asked)
    assert kit["unavailableLevels"] == [lv.value for lv in federation.hub[YUCI].levels]
    assert not set(kit["statusLists"]) & await _yuci_issuers(federation)
    assert kit["jwks"]["keys"], "the keys read before are kept"
    async with federation.stores[YUCI].sessions() as session:
        revoked = await session.scalar(
            select(ELicence.token).where(ELicence.status == LicenceStatus.REVOKED).limit(1)
        )
    assert revoked is not None
    verdict = verify_offline(revoked, Kit(kit), dt.datetime.fromisoformat(kit["generatedAt"]))
    assert (verdict.outcome.value, verdict.reason) == ("UNKNOWN", STATUS_LIST_MISSING)

    answer = await federation.desk.hub.gql.http.get(f"/licences/status/{org}")
    assert answer.status_code == 503 and YUCI in answer.text
