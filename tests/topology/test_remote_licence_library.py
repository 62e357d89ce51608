"""The licence library through the node API: with the city node a process of its own at
an address, the library's list (``licences(filter:)``) is the city node's
``licenceLibrary`` by the hub's conditions, a holder's copy (``requestLicenceCopy``)
is signed and recorded at the city node (``copyLicence``), and verification
(``verifyLicence``) reads the issuer's master row (``_entities`` of ``ELicence``) and
the keys (``licenceKeys``) through the nodes' API. The answers are the SQL path's over
the same stores; a copy is written in the city node's store alone, signed with the
library's key kept there; a node that is not the library's refuses; a node that does
not answer is NODE_UNAVAILABLE naming it, the list's other data kept and no copy
written."""

from __future__ import annotations

from collections import Counter
from typing import Any

import jwt
import pytest
from sqlalchemy import select

from levels.common.errors import DomainError, ErrorCode
from levels.licences.enums import LicenceStatus, LicenceUseKind
from levels.licences.models import ELicence, LicenceKey, LicenceUse
from levels.licences.tokens import token_kid
from levels.node.licence_library import LicenceConditions, library_orgs
from resolvers import node_licence_calls
from tests.conftest import BACKEND
from tests.scenarios.test_licence_lifecycle import COPY, COPY_CHECK
from tests.scenarios.test_licences import VERIFY
from tests.support.federation import (
    CITY,
    YUCI,
    Federation,
    count_rows,
    every_page,
    sql_desk,
)
from tests.support.outages import assert_unavailable, named
from tests.topology.test_remote_reads import calls

LIST = """
query($filter: LicenceFilter, $first: Int, $after: String) {
  licences(filter: $filter, first: $first, after: $after) {
    edges { node { identifier status typeCode version issuerLevel sourceCaseNumber } }
    pageInfo { hasNextPage endCursor }
  }
}"""
HOLDER = "resident1"


@pytest.fixture(scope="module")
def federation(backend_federation: Federation) -> Federation:
    """The three node processes over their own stores — PostgreSQL databases with
    ``GOVHUB_TEST_BACKEND=postgres`` — and a hub reading them through their API
    (``tests/topology/conftest.py``)."""
    return backend_federation


async def _library(federation: Federation) -> list[ELicence]:
    """The library's rows, as the city node keeps them."""
    async with federation.stores[CITY].sessions() as session:
        return list(await session.scalars(select(ELicence).order_by(ELicence.id)))


async def _filters(federation: Federation) -> list[dict[str, Any]]:
    """A filter by each of the list's conditions, with values the library holds."""
    rows = await _library(federation)
    assert len(rows) > 3, "the demo issues licences"
    with_case = next(r for r in rows if r.source_case_number)
    return [
        {},
        {"typeCode": rows[0].type_code.lower()},
        {"status": "VALID"},
        {"status": "REVOKED"},
        {"issuerOrgCode": rows[-1].issuer_org_code},
        {"divisionCode": "140702000000"},
        {"divisionCode": "140702101000"},
        {"caseNumber": with_case.source_case_number},
        {"typeCode": rows[0].type_code, "divisionCode": rows[0].issuer_division_code},
    ]


@pytest.mark.parametrize("who", [HOLDER, "jz.auditor", "yuci.auditor"])
async def test_the_list_by_each_filter_is_the_sql_answer(
    federation: Federation, monkeypatch: pytest.MonkeyPatch, who: str
) -> None:
    # the nodes' stores are the backend's: PostgreSQL databases or SQLite files
    assert federation.stores[CITY].url.startswith("postgresql") is (BACKEND == "postgres")
    filters = await _filters(federation)
    listed: list[int] = []
    async with sql_desk(federation) as by_sql:
        for given in filters:
            remote = await every_page(federation.desk, who, LIST, "licences", filter=given, first=2)
            local = await every_page(by_sql, who, LIST, "licences", filter=given, first=2)
            assert remote == local, given
            whole = await federation.desk.run(who, LIST, filter=given, first=50)
            assert [e["node"] for e in whole["licences"]["edges"]] == remote, given
            listed.append(len(remote))
        # a filter the hub refuses, refused alike
        bad = {"issuerOrgCode": "not-a-code"}
        refused = await federation.desk.ask(who, LIST, filter=bad)
        assert refused == await by_sql.ask(who, LIST, filter=bad)
        assert refused["errors"][0]["extensions"]["code"] == "INVALID_ORG_CODE"
    assert listed[0] > 2 and max(listed[1:]) > 0, listed  # the pages were not all empty

    with calls(federation, monkeypatch) as listing:
        await federation.desk.run(who, LIST, filter={"status": "VALID"}, first=50)
    # one call, at the city node keeping the library
    assert listing == Counter({(CITY, "LicenceLibrary", None): 1})


async def test_a_node_other_than_the_library_s_refuses(federation: Federation) -> None:
    client = federation.hub[YUCI].client
    assert client is not None
    with pytest.raises(DomainError) as listing:
        await node_licence_calls.library_page(client, LicenceConditions(), after=None, first=5)
    assert listing.value.code is ErrorCode.DIVISION_NOT_OWNED
    with pytest.raises(DomainError) as orgs:
        await node_licence_calls.library_orgs(client)
    assert orgs.value.code is ErrorCode.DIVISION_NOT_OWNED
    licence = (await _library(federation))[0]
    with pytest.raises(DomainError) as copying:
        await node_licence_calls.copy_licence(
            client,
            licence.id,
            purpose="x",
            expires_at=federation.desk.hub.clock.now(),
            used_by="someone",
            now=federation.desk.hub.clock.now(),
        )
    assert copying.value.code is ErrorCode.DIVISION_NOT_OWNED
    # a condition the node does not know: BAD_USER_INPUT
    city = federation.hub[CITY].client
    assert city is not None
    with pytest.raises(DomainError) as bad:
        await city.query("query { licenceLibrary(filter: {holder: 1}) { items { columns } } }")
    assert bad.value.code is ErrorCode.BAD_USER_INPUT


async def _tokens(federation: Federation) -> list[str]:
    """A licence of each issuing county and status the library holds (the demo's are
    榆次区's and its towns')."""
    seen: dict[tuple[str, LicenceStatus], str] = {}
    for row in await _library(federation):
        seen.setdefault((row.issuer_division_code[:6], row.status), row.token)
    return list(seen.values())


async def test_verification_is_the_sql_answer(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = await _tokens(federation)
    assert len(tokens) > 2
    async with sql_desk(federation) as by_sql:
        for token in [*tokens, "not-a-licence", tokens[0][:-4] + "AAAA"]:
            remote = await federation.desk.hub.gql(VERIFY, {"token": token})
            assert "errors" not in remote, remote
            assert remote == await by_sql.hub.gql(VERIFY, {"token": token}), token

    yuci = next(
        r for r in await _library(federation) if r.issuer_division_code.startswith("140702")
    )
    with calls(federation, monkeypatch) as verifying:
        answer = await federation.desk.hub.gql(VERIFY, {"token": yuci.token})
    assert answer["data"]["verifyLicence"]["claims"]["identifier"] == yuci.id
    # the keys and the library's orgs read before: the master row at its issuer, and
    # the type of the claims' fields (their labels) at the city node keeping the types
    assert verifying == Counter(
        {(YUCI, "Entities", None): 1, (CITY, "OrgRecords", "LICENCE_TYPES"): 1}
    )


async def _holders_licence(federation: Federation) -> str:
    listed = await federation.desk.run(HOLDER, LIST, filter={"status": "VALID"}, first=1)
    identifier: str = listed["licences"]["edges"][0]["node"]["identifier"]
    return identifier


async def _copy(federation: Federation, who: str, **input: Any) -> dict[str, Any]:
    body = await federation.desk.ask(who, COPY, input=input)
    return body


async def _uses(federation: Federation) -> dict[str, int]:
    return {
        node.id: await count_rows(federation.stores, LicenceUse, node.id)
        for node in federation.stores
    }


async def test_a_copy_is_signed_and_recorded_at_the_city_node_alone(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    identifier = await _holders_licence(federation)
    uses = await _uses(federation)

    with calls(federation, monkeypatch) as copying:
        body = await _copy(federation, HOLDER, id=identifier, purpose="办理贷款", validDays=7)

    assert "errors" not in body, body
    copy = body["data"]["requestLicenceCopy"]
    assert copy["errors"] == [] and copy["copy"]["licenceIdentifier"] == identifier
    # the library's row read for the hub's check, then the copy made there
    assert copying == Counter({(CITY, "OrgRecords", "LICENCES"): 1, (CITY, "CopyLicence", None): 1})
    after = await _uses(federation)
    assert after == {**uses, CITY: uses[CITY] + 1}
    for node in federation.hub:  # the hub's own stores hold no use
        assert await count_rows(federation.hub, LicenceUse, node.id) == 0
    async with federation.stores[CITY].sessions() as session:
        use = await session.scalar(
            select(LicenceUse).where(
                LicenceUse.licence_id == identifier, LicenceUse.purpose == "办理贷款"
            )
        )
        key = await session.get(LicenceKey, token_kid(copy["copy"]["token"]))
        orgs = await library_orgs(session)
    assert use is not None and use.kind is LicenceUseKind.COPY
    # signed with the library's key, kept in the city node's store
    assert key is not None and key.org_code == orgs[0]
    public = jwt.PyJWK(key.public_jwk).key
    # (the signature checked; its validity is the demo clock's, not today's)
    claims = jwt.decode(
        copy["copy"]["token"],
        public,
        algorithms=["ES256"],
        options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
    )
    assert (claims["iss"], claims["licence"]["jti"]) == (orgs[0], identifier)

    checked = await federation.desk.hub.gql(COPY_CHECK, {"token": copy["copy"]["token"]})
    verdict = checked["data"]["verifyLicence"]
    assert verdict["valid"] is True and verdict["copy"]["purpose"] == "办理贷款"
    async with sql_desk(federation) as by_sql:
        assert checked == await by_sql.hub.gql(COPY_CHECK, {"token": copy["copy"]["token"]})


async def test_a_copy_s_refusals_are_the_sql_path_s(federation: Federation) -> None:
    identifier = await _holders_licence(federation)
    missing = identifier[:-1] + ("0" if identifier[-1] != "0" else "1")
    uses = await _uses(federation)
    asked = [
        (HOLDER, {"id": identifier, "purpose": " ", "validDays": 7}, "PURPOSE_REQUIRED"),
        (HOLDER, {"id": identifier, "purpose": "x", "validDays": 0}, "INVALID_COPY_VALIDITY"),
        ("jz.auditor", {"id": identifier, "purpose": "x", "validDays": 7}, "NOT_THE_HOLDER"),
        ("resident2", {"id": identifier, "purpose": "x", "validDays": 7}, "LICENCE_NOT_FOUND"),
        (HOLDER, {"id": missing, "purpose": "x", "validDays": 7}, None),
    ]
    async with sql_desk(federation) as by_sql:
        for who, input, code in asked:
            remote = await _copy(federation, who, **input)
            local = await by_sql.ask(who, COPY, input=input)
            assert remote == local, (who, input)
            if code is not None:
                errors = remote["data"]["requestLicenceCopy"]["errors"]
                assert [e["code"] for e in errors] == [code]
    assert await _uses(federation) == uses


async def test_a_copy_of_a_licence_not_valid_is_refused_at_the_node(
    federation: Federation,
) -> None:
    async with federation.stores[CITY].sessions() as session:
        revoked = await session.scalar(
            select(ELicence).where(ELicence.status == LicenceStatus.REVOKED).limit(1)
        )
    assert revoked is not None
    client = federation.hub[CITY].client
    assert client is not None
    now = federation.desk.hub.clock.now()
    with pytest.raises(DomainError) as refused:
        await node_licence_calls.copy_licence(
            client,
            revoked.id,
            purpose="x",
            expires_at=now.replace(year=now.year + 1),
            used_by=revoked.holder_id,
            now=now,
        )
    assert (refused.value.code.value, refused.value.detail) == ("LICENCE_NOT_VALID", "REVOKED")


async def test_a_copy_whose_answer_does_not_come_is_named(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    identifier = await _holders_licence(federation)
    uses = await _uses(federation)

    async def no_answer(*_args: Any, **_kwargs: Any) -> Any:
        raise DomainError(ErrorCode.NODE_UNAVAILABLE, detail=f"node {CITY}: no answer")

    monkeypatch.setattr(node_licence_calls, "copy_licence", no_answer)
    answer = await _copy(federation, HOLDER, id=identifier, purpose="x", validDays=7)

    assert_unavailable(answer, CITY)
    assert await _uses(federation) == uses


async def test_stopped_nodes_are_named(federation: Federation) -> None:
    identifier = await _holders_licence(federation)
    yuci = next(
        r
        for r in await _library(federation)
        if r.issuer_division_code.startswith("140702") and r.status is LicenceStatus.VALID
    )
    uses = await _uses(federation)
    await federation.served[CITY].stop()

    listed = await federation.desk.ask("jz.auditor", LIST, filter={}, first=5)
    assert named(listed) == [("NODE_UNAVAILABLE", CITY)]
    assert listed["data"]["licences"]["edges"] == []
    copied = await _copy(federation, HOLDER, id=identifier, purpose="x", validDays=7)
    assert_unavailable(copied, CITY)
    assert await _uses(federation) == uses
    # verification asks the issuer, not the library: 榆次区's answers still
    answer = await federation.desk.hub.gql(VERIFY, {"token": yuci.token})
    assert answer["data"]["verifyLicence"]["outcome"] == "VALID", answer

    await federation.served[YUCI].stop()
    unknown = await federation.desk.hub.gql(VERIFY, {"token": yuci.token})
    verdict = unknown["data"]["verifyLicence"]
    assert (verdict["outcome"], verdict["reason"]) == ("UNKNOWN", "ISSUER_UNAVAILABLE")
