"""The demo city's e-licences (电子证照): every approved case of an item that issues a
licence has exactly one, signed by its org's key and copied to the city's library with
the same status; 张明 (``resident1``) holds a VALID 营业执照 there, which filled his food
business application; one licence is SUSPENDED and one REVOKED; nothing is left in any
outbox."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
from sqlalchemy import select

from auth.models import Account
from gateway.demo import load_demo
from gateway.demo.licences import FOOD_BUSINESS, YUCI, implementation
from gateway.nodes import NodeRegistry
from levels.audit.models import AuditEvent
from levels.cases.enums import ApplicantKind, CaseStatus, Decision, MaterialSource
from levels.cases.models import Case, CaseMaterial, CasePart
from levels.cases.sharing import IDENTITY_TYPE
from levels.city.models import Matter
from levels.common.clock import CHINA
from levels.common.enums import LEVELS, Level
from levels.common.models import LevelBase, MatterImplementation
from levels.licences.enums import LicenceStatus, LicenceUseKind
from levels.licences.keys import ALGORITHM
from levels.licences.models import ELicence, LicenceKey, LicenceType, LicenceUse
from levels.licences.registers import REGISTER_TYPES
from levels.licences.service import held_licences
from levels.licences.tokens import LICENCE_TYP
from levels.outbox.models import MessageState, OutboxMessage
from tests.conftest import DEMO_NOW
from tests.gateway.test_demo import SECRET, fresh_stores

APPROVED = {CaseStatus.APPROVED, CaseStatus.COMPLETED, CaseStatus.DELIVERED, CaseStatus.ARCHIVED}
ISSUES = {
    "个体工商户登记": "YYZZ",
    "食品经营许可": "SPJY",
    "药品零售许可": "YPJY",
    "农药经营许可": "NYJY",
    "残疾人证核发": "CJRZ",
    "最低生活保障审批": "DBZ",
    "农村宅基地建房审批": "ZJDPZ",
    "老年人优待证办理": "LNRYDZ",
}
# the two whose status the demo changed: (type, holder) -> status
CHANGED = {
    ("YYZZ", "王芳"): LicenceStatus.REVOKED,
    ("NYJY", "修文镇兴农农机专业合作社"): LicenceStatus.SUSPENDED,
}


@pytest.fixture(scope="module")
async def nodes(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[NodeRegistry]:
    """A demo city of this module's own (other tests change the shared one's licences)."""
    async with fresh_stores(tmp_path_factory.mktemp("demo-licences")) as nodes:
        await load_demo(nodes, secret=SECRET)
        yield nodes


async def _all(nodes: NodeRegistry, level: Level, model: type[LevelBase]) -> list[Any]:
    async with nodes[level].sessions() as session:
        return list((await session.scalars(select(model))).all())


async def _masters(nodes: NodeRegistry) -> dict[Level, list[ELicence]]:
    """Each store's own licences (the city store holds the library copies too)."""
    return {
        level: [r for r in await _all(nodes, level, ELicence) if r.issuer_level is level]
        for level in LEVELS
    }


async def _account(nodes: NodeRegistry, username: str) -> Account:
    async with nodes.identity.sessions() as session:
        found = await session.scalar(select(Account).where(Account.username == username))
    assert found is not None
    return found


async def test_licence_types_are_in_every_store_and_items_issue_them(nodes: NodeRegistry) -> None:
    # the types cases issue, the registers' (信息共享) and the identity card's
    codes = set(ISSUES.values()) | set(REGISTER_TYPES) | {IDENTITY_TYPE}
    for level in LEVELS:
        types = {t.code: t for t in await _all(nodes, level, LicenceType)}
        assert set(types) == codes, level
        cjrz = {f["key"]: f for f in types["CJRZ"].fields}
        assert cjrz["category"]["required"] and "default" not in cjrz["category"]
        assert types["YYZZ"].validity_years is None and types["SPJY"].validity_years == 5
    names = {m.basic_code: m.name for m in await _all(nodes, Level.CITY, Matter)}
    delegated = 0
    for level in LEVELS:
        for impl in await _all(nodes, level, MatterImplementation):
            wanted = ISSUES.get(names[impl.basic_code])
            assert impl.issues_licence_type == wanted, (level, impl.code)
            delegated += impl.delegated_from is not None and wanted is not None
    assert delegated >= 10  # the towns' copies of 个体工商户登记 issue it too


async def test_every_approved_case_of_an_issuing_item_has_exactly_one_licence(
    nodes: NodeRegistry,
) -> None:
    masters = await _masters(nodes)
    statuses: Counter[LicenceStatus] = Counter()
    for level in LEVELS:
        impls = {i.code: i for i in await _all(nodes, level, MatterImplementation)}
        cases = await _all(nodes, level, Case)
        parts = await _all(nodes, level, CasePart)
        by_case: dict[tuple[str, str], list[ELicence]] = {}
        for row in masters[level]:
            if row.type_code in REGISTER_TYPES:
                continue  # entered from a register (信息共享), not issued by a case
            by_case.setdefault((row.source_case_number, row.implementation_code), []).append(row)
        expected: set[tuple[str, str]] = set()
        for case in cases:
            codes = [case.implementation_code]
            codes += [
                p.implementation_code
                for p in parts
                if p.case_number == case.number and not p.lead and p.decision is Decision.APPROVED
            ]
            for code in codes:
                impl = impls.get(code)
                if impl is None or impl.issues_licence_type is None:
                    continue
                if case.status in APPROVED and case.decision is Decision.APPROVED:
                    expected.add((case.number, code))
                    found = by_case.get((case.number, code), [])
                    assert len(found) == 1, (case.number, code)
                    row = found[0]
                    assert row.type_code == impl.issues_licence_type
                    assert row.holder_id == case.applicant_id
                    assert row.holder_name == case.applicant_name
                    assert row.holder_kind is case.applicant_kind
                    assert row.issuer_org_code == impl.org_code == case.org_code
                    assert case.decided_at is not None
                    assert row.valid_from == case.decided_at.astimezone(CHINA).date()
                    want = CHANGED.get((row.type_code, row.holder_name), LicenceStatus.VALID)
                    assert row.status is want, row.id
                    if want is not LicenceStatus.VALID:
                        assert row.status_reason and row.revision == 2
                    statuses[row.status] += 1
        # no licence without an approved case behind it
        assert set(by_case) == expected, level
    assert statuses == Counter(
        {LicenceStatus.VALID: 5, LicenceStatus.SUSPENDED: 1, LicenceStatus.REVOKED: 1}
    )
    # licences of a county, a town and the city itself
    assert {level for level, rows in masters.items() if rows} == {
        Level.CITY,
        Level.COUNTY,
        Level.TOWN,
    }


async def test_the_library_holds_every_licence_with_its_status(nodes: NodeRegistry) -> None:
    masters = await _masters(nodes)
    library = {r.id: r for r in await _all(nodes, Level.CITY, ELicence)}
    every = [row for rows in masters.values() for row in rows]
    assert set(library) == {r.id for r in every}
    for row in every:
        copy = library[row.id]
        assert copy.status is row.status and copy.revision == row.revision
        assert copy.status_reason == row.status_reason
        assert copy.token == row.token and copy.kid == row.kid
        assert copy.holder_id == row.holder_id and copy.data == row.data
    for level in LEVELS:
        messages = await _all(nodes, level, OutboxMessage)
        assert {m.state for m in messages} <= {MessageState.ACKNOWLEDGED}, level
        for m in messages:
            # delivered as a relay running all along would have, before the demo's now
            assert m.created_at <= m.delivered_at <= m.acknowledged_at < DEMO_NOW


async def test_every_token_verifies_with_its_orgs_key(nodes: NodeRegistry) -> None:
    masters = await _masters(nodes)
    every = [row for rows in masters.values() for row in rows]
    for level, rows in masters.items():
        keys = {k.kid: k for k in await _all(nodes, level, LicenceKey)}
        for row in rows:
            key = keys[row.kid]
            assert key.org_code == row.issuer_org_code and key.alg == ALGORITHM
            header = jwt.get_unverified_header(row.token)
            assert header == {"alg": ALGORITHM, "kid": row.kid, "typ": LICENCE_TYP}
            # the demo lives on 2026-11-20: its validity is checked against that day
            claims = jwt.decode(
                row.token,
                jwt.PyJWK(key.public_jwk).key,
                algorithms=[ALGORITHM],
                options={"verify_exp": False, "verify_nbf": False},
            )
            assert claims["jti"] == row.id
            assert claims["iss"] == row.issuer_org_code
            assert claims["case"] == row.source_case_number
            assert claims["type"]["code"] == row.type_code
            assert claims["data"] == row.data
            assert claims["nbf"] <= DEMO_NOW.timestamp()
            if row.valid_until is None:
                assert "exp" not in claims
            else:
                assert claims["exp"] > DEMO_NOW.timestamp()
            # another licence's claims under this signature do not verify
            other = next(r for r in every if r.id != row.id)
            head, _, signature = row.token.split(".")
            forged = ".".join([head, other.token.split(".")[1], signature])
            with pytest.raises(jwt.InvalidSignatureError):
                jwt.decode(forged, jwt.PyJWK(key.public_jwk).key, algorithms=[ALGORITHM])


async def test_licence_data_follows_the_type(nodes: NodeRegistry) -> None:
    rows = [r for rs in (await _masters(nodes)).values() for r in rs]
    cards = [r for r in rows if r.type_code == "CJRZ"]
    assert len(cards) == 2
    for card in cards:
        assert card.data["category"] in {"肢体", "听力"} and card.data["grade"] in {"三级", "二级"}
        assert card.data["name"] == card.holder_name
        assert card.data["idNumber"] == card.holder_id_masked
        assert card.valid_until is not None
        assert card.data["issuedOn"] == card.valid_from.isoformat()
    drug = next(r for r in rows if r.type_code == "YPJY")
    assert drug.issuer_level is Level.CITY and drug.holder_kind is ApplicantKind.ENTERPRISE
    assert drug.data["enterprise"] == "晋中市汇通商贸有限公司"


async def test_resident1_holds_a_valid_business_licence_that_filled_a_later_application(
    nodes: NodeRegistry,
) -> None:
    resident = await _account(nodes, "resident1")
    async with nodes[Level.CITY].sessions() as session:
        held = await held_licences(session, [resident.id], ["YYZZ", "CJRZ", "DBZ"])
        uses = list((await session.scalars(select(LicenceUse))).all())
    assert set(held) == {"YYZZ", "CJRZ", "DBZ"}
    licence = held["YYZZ"]
    assert licence.status is LicenceStatus.VALID and licence.holder_name == "张明"
    assert licence.issuer_level is Level.TOWN  # 修文镇, by the county's delegation
    assert licence.valid_until is None and licence.data["operator"] == "张明"
    # 张明's food business application: its 营业执照 came from the library
    food = implementation(YUCI, FOOD_BUSINESS)
    cases = [
        c
        for c in await _all(nodes, Level.COUNTY, Case)
        if c.implementation_code == food and c.applicant_id == resident.id
    ]
    assert len(cases) == 1
    case = cases[0]
    assert case.submitted_at > licence.issued_at
    async with nodes[Level.COUNTY].sessions() as session:
        materials = list(
            (
                await session.scalars(
                    select(CaseMaterial).where(CaseMaterial.case_number == case.number)
                )
            ).all()
        )
    filled = [m for m in materials if m.source is MaterialSource.LICENCE]
    assert [(m.name, m.reference) for m in filled] == [("营业执照", licence.id)]
    assert [(u.licence_id, u.case_number, u.kind, u.material) for u in uses] == [
        (licence.id, case.number, LicenceUseKind.MATERIAL, "营业执照")
    ]


async def test_a_suspended_and_a_revoked_licence_were_changed_by_their_directors(
    nodes: NodeRegistry,
) -> None:
    masters = await _masters(nodes)
    directors = {
        Level.COUNTY: await _account(nodes, "yuci.director"),
        Level.TOWN: await _account(nodes, "xiuwen.director"),
    }
    changed = [r for rows in masters.values() for r in rows if r.status is not LicenceStatus.VALID]
    assert {(r.type_code, r.holder_name): r.status for r in changed} == CHANGED
    for row in changed:
        assert row.status_changed_at > row.issued_at
        assert row.status_changed_at < DEMO_NOW - dt.timedelta(days=1)
        events = [
            e
            for e in await _all(nodes, row.issuer_level, AuditEvent)
            if e.detail and e.detail.get("licence") == row.id
        ]
        assert [e.action for e in events] == [
            "ISSUE_LICENCE",
            "REVOKE_LICENCE" if row.status is LicenceStatus.REVOKED else "SUSPEND_LICENCE",
        ]
        assert events[-1].actor_id == directors[row.issuer_level].id
