"""The authorization matrix: every kind of viewer × every operation of the API × objects
of every level, over HTTP, compared cell by cell with the policy table
(``auth/policy.py``). Later issues extend ``OPERATIONS`` and the objects.

Each cell is decided by ``auth.policy.allows`` for the viewer the hub itself decoded
from the token; the test only checks that the API does what the table says."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
from graphql import GraphQLInterfaceType, GraphQLObjectType, GraphQLUnionType, get_named_type
from sqlalchemy import select

from auth.enums import AccountKind, Role
from auth.policy import Action, Resource, Target, allows
from auth.viewer import ANONYMOUS, Viewer
from gateway.demo.accounts import CLIENT_KEYS
from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.cases.enums import CaseStatus
from levels.cases.models import Case
from levels.common.enums import LEVELS, Level, MatterStatus
from levels.common.models import Department, Division, MatterImplementation, ServiceOrg, Window
from levels.county.models import Delegation
from levels.evaluations.enums import ComplaintStatus, RectificationStatus
from levels.evaluations.models import Complaint, Evaluation, Rectification
from levels.licences.enums import LicenceStatus
from levels.licences.models import ELicence
from levels.proxy.models import ProxyAuthorization
from resolvers.globalid import encode_id
from schema.audit import audit_target
from schema.build import build_schema
from schema.cases import case_target
from schema.evaluations import ComplaintType, EvaluationType, RectificationType
from schema.licences import licence_target
from schema.proxy import authorization_target, ledger_target
from tests.auth.conftest import LOGOUT, bearer, signed_in
from tests.conftest import DEMO_NOW, GraphQLClient

# username (or machine client id, or None for nobody) of every kind of viewer
PRINCIPALS: list[str | None] = [
    None,
    "resident1",
    "resident2",  # also the legal representative of firm2
    "resident4",  # authorized 修文村's station (代办) in the demo
    "firm1",
    "yuci.scj.director",  # a director of one department (市场监管)
    *(f"yuci.{r}" for r in ("receptionist", "reviewer", "director", "output", "supervisor")),
    "yuci.admin",
    "jz.reviewer",
    "xiuwen.receptionist",
    "xiuwencun.admin",
    "taigu.reviewer",
    "agent.140702101201.1",
    "agent.140702101202.1",  # an agent of another village
    "jz.auditor",
    "yuci.auditor",
    "xiuwen.auditor",
    "client:yuci-system",
    "client:taigu-system:cases:read",
]

NODE = "query($id: ID!) { node(id: $id) { id } }"
DRAFTS = """
query($after: String) {
  matterImplementations(filter: {status: DRAFT}, first: 100, after: $after) {
    edges { node { implementationCode } } pageInfo { hasNextPage endCursor }
  }
}
"""


async def _licence_objects(nodes: NodeRegistry) -> list[Obj]:
    """Every licence of the library (the demo's, of every issuing level)."""
    async with nodes[Level.CITY].sessions() as s:
        rows = (await s.scalars(select(ELicence).order_by(ELicence.id))).all()
    assert {r.issuer_level for r in rows} >= {Level.CITY, Level.COUNTY, Level.TOWN}
    return [
        Obj(
            f"licence:{r.id}",
            encode_id("ELicence", r.issuer_division_code, r.id),
            licence_target(r),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class Obj:
    label: str
    global_id: str
    target: Target


async def _objects(nodes: NodeRegistry) -> list[Obj]:
    """Catalogue objects of every level, and the draft items the demo holds."""
    out: list[Obj] = []
    anchors = {
        Level.CITY: "140700000000",
        Level.COUNTY: "140702000000",
        Level.TOWN: "140702101000",
        Level.VILLAGE: "140702101201",
    }
    for level in LEVELS:
        code = anchors[level]
        async with nodes[level].sessions() as s:
            org = await s.scalar(select(ServiceOrg).where(ServiceOrg.division_code == code))
            assert org is not None
            dept = await s.scalar(select(Department).where(Department.org_code == org.code))
            window = await s.scalar(select(Window).where(Window.org_code == org.code))
            published = await s.scalar(
                select(MatterImplementation).where(
                    MatterImplementation.status == MatterStatus.PUBLISHED,
                    MatterImplementation.division_code == code,
                )
            )
            drafts = (
                await s.scalars(
                    select(MatterImplementation)
                    .where(MatterImplementation.status == MatterStatus.DRAFT)
                    .limit(2)
                )
            ).all()
            division = await s.get(Division, code)
        assert division and dept and window and published
        catalogue = Target(Resource.CATALOGUE, division_code=code)
        out += [
            Obj(f"{level.value}:division", encode_id("Division", code, code), catalogue),
            Obj(
                f"{level.value}:org",
                encode_id("ServiceOrg", org.division_code, org.code),
                catalogue,
            ),
            Obj(
                f"{level.value}:department",
                encode_id("Department", dept.id[:12], dept.id),
                catalogue,
            ),
            Obj(f"{level.value}:window", encode_id("Window", window.id[:12], window.id), catalogue),
            Obj(
                f"{level.value}:item",
                encode_id("MatterImplementation", code, published.code),
                catalogue,
            ),
        ]
        for d in drafts:
            out.append(
                Obj(
                    f"{level.value}:draft:{d.division_code}",
                    encode_id("MatterImplementation", d.division_code, d.code),
                    Target(Resource.DRAFT_ITEM, division_code=d.division_code),
                )
            )
    async with nodes[Level.COUNTY].sessions() as s:
        delegation = await s.scalar(select(Delegation).limit(1))
    assert delegation is not None
    out.append(
        Obj(
            "COUNTY:delegation",
            encode_id("Delegation", delegation.id[:12], delegation.id),
            Target(Resource.CATALOGUE),
        )
    )
    out.append(Obj("CITY:matter", encode_id("Matter", Level.CITY, published.basic_code), catalogue))
    async with nodes[Level.COUNTY].sessions() as s:
        for case in await s.scalars(select(Case).order_by(Case.number).limit(2)):
            out.append(
                Obj(
                    f"COUNTY:case:{case.number}",
                    encode_id("Case", case.division_code, case.number),
                    case_target(case),
                )
            )
    out.append(await _village_case_obj(nodes))
    return out


async def _village_case(nodes: NodeRegistry) -> Case:
    """The demo's case an agent of 修文村 completed on the spot (代办, 即时办理)."""
    async with nodes[Level.VILLAGE].sessions() as s:
        case = await s.scalar(
            select(Case)
            .where(Case.division_code == VILLAGE, Case.status == CaseStatus.COMPLETED)
            .order_by(Case.number)
        )
    assert case is not None
    return case


async def _village_case_obj(nodes: NodeRegistry) -> Obj:
    case = await _village_case(nodes)
    return Obj(
        f"VILLAGE:case:{case.number}",
        encode_id("Case", case.division_code, case.number),
        case_target(case),
    )


async def _client_token(http: httpx.AsyncClient, settings: Settings, spec: str) -> str:
    _, client_id, *scope = spec.split(":", 2)
    now = int(DEMO_NOW.timestamp())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": settings.token_endpoint,
        "jti": uuid.uuid4().hex,
        "exp": now + 60,
    }
    key = (CLIENT_KEYS / f"{client_id}.pem").read_bytes()
    algorithm = "ES256" if client_id == "yuci-system" else "EdDSA"
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": jwt.encode(claims, key, algorithm=algorithm),
    }
    if scope:
        form["scope"] = scope[0]
    response = await http.post("/oauth/token", data=form)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


Probe = Callable[[GraphQLClient, dict[str, str], Viewer], Awaitable[tuple[bool, bool]]]


def _outcome(body: dict[str, Any], field: str) -> bool:
    """True when the operation was let through (data, or payload errors only)."""
    errors = body.get("errors") or []
    codes = {e.get("extensions", {}).get("code") for e in errors}
    assert codes <= {"UNAUTHENTICATED", "FORBIDDEN"}, body
    return not errors and (body.get("data") or {}).get(field) is not None


async def _me(gql: GraphQLClient, headers: dict[str, str], viewer: Viewer) -> tuple[bool, bool]:
    body = await gql("{ me { id } }", **headers)
    expected = allows(viewer, Action.READ, Target(Resource.ACCOUNT, owner=viewer.subject))
    return body["data"]["me"] is not None, expected


async def _approve(
    gql: GraphQLClient, headers: dict[str, str], viewer: Viewer
) -> tuple[bool, bool]:
    query = 'mutation { approveHandoff(input: {userCode: "ZZZZ-ZZZZ"}) { errors { code } } }'
    body = await gql(query, **headers)
    expected = allows(
        viewer, Action.APPROVE_HANDOFF, Target(Resource.SESSION, owner=viewer.subject)
    )
    return _outcome(body, "approveHandoff"), expected


async def _sign_in_ops(
    gql: GraphQLClient, headers: dict[str, str], viewer: Viewer
) -> tuple[bool, bool]:
    # a made-up username of its own: the failed attempt counts against nobody else
    query = """mutation($nobody: String!) {
      login(input: {username: $nobody, password: "wrong-password", channel: WEB}) {
        errors { code } }
      refreshSession(input: {refreshToken: "nope"}) { errors { code } }
      startHandoff(input: {channel: SYSTEM}) { errors { code } }
      completeHandoff(input: {deviceCode: "nope"}) { errors { code } }
    }"""
    body = await gql(query, {"nobody": f"nobody-{uuid.uuid4().hex[:12]}"}, **headers)
    through = all(
        _outcome(body, f) for f in ("login", "refreshSession", "startHandoff", "completeHandoff")
    )
    return through, allows(viewer, Action.SIGN_IN, Target(Resource.SESSION))


async def _logout(gql: GraphQLClient, headers: dict[str, str], viewer: Viewer) -> tuple[bool, bool]:
    body = await gql(LOGOUT, **headers)
    expected = allows(viewer, Action.LOGOUT, Target(Resource.SESSION, owner=viewer.subject))
    return _outcome(body, "logout"), expected


# a step on a demo case in a state it cannot be taken from: whoever the policy lets
# through gets INVALID_TRANSITION (and nothing changes); everyone else is refused
CASE_STEPS = {
    "acceptCase": (Action.RECEIVE_CASE, "CaseActionInput", "{number: $n}"),
    "startReview": (Action.REVIEW_CASE, "CaseActionInput", "{number: $n}"),
    "decideCase": (Action.DECIDE_CASE, "DecideCaseInput", "{number: $n, decision: APPROVED}"),
    "recordPartDecision": (
        Action.DECIDE_CASE,
        "PartDecisionInput",
        '{number: $n, implementationCode: "x", decision: APPROVED}',
    ),
    "archiveCase": (Action.DELIVER_CASE, "CaseActionInput", "{number: $n}"),
    "supplementMaterials": (
        Action.SUPPLEMENT_CASE,
        "SupplementInput",
        "{number: $n, materials: []}",
    ),
    "withdrawCase": (Action.WITHDRAW_CASE, "CaseActionInput", "{number: $n}"),
    "referCase": (Action.REFER_CASE, "ReferCaseInput", "{number: $n}"),
    "correctMaterials": (
        Action.CORRECT_MATERIALS,
        "CorrectMaterialsInput",
        "{number: $n, materials: []}",
    ),
    "approveRejection": (Action.APPROVE_REJECTION, "CaseActionInput", "{number: $n}"),
    "declineRejection": (Action.APPROVE_REJECTION, "CaseActionInput", "{number: $n}"),
    "handInToleratedMaterials": (
        Action.SUPPLEMENT_CASE,
        "HandInToleratedInput",
        "{number: $n, materials: []}",
    ),
    "overrideTolerance": (
        Action.DECIDE_CASE,
        "OverrideToleranceInput",
        '{number: $n, reason: "x"}',
    ),
    # 转报: whoever may refer a case completes its file; the decider tells the station
    "completeReferralFile": (
        Action.REFER_CASE,
        "SupplementInput",
        '{number: $n, materials: [{name: "x", source: PAPER}]}',
    ),
    "notifyStation": (Action.NOTIFY_STATION, "StationNoticeInput", "{number: $n, materials: []}"),
    "supplementAtStation": (
        Action.SUPPLEMENT_AT_STATION,
        "SupplementInput",
        '{number: $n, materials: [{name: "x", source: PAPER}]}',
    ),
}


async def _case_steps(
    gql: GraphQLClient, headers: dict[str, str], viewer: Viewer, case: Case
) -> list[str]:
    mismatches = []
    target = case_target(case)
    for name, (action, _input, literal) in CASE_STEPS.items():
        query = f"mutation($n: String!) {{ {name}(input: {literal}) {{ errors {{ code }} }} }}"
        body = await gql(query, {"n": case.number}, **headers)
        if not viewer.authenticated:
            got = body["errors"][0]["extensions"]["code"]
            expected = "UNAUTHENTICATED"
        else:
            got = body["data"][name]["errors"][0]["code"]
            if not allows(viewer, Action.READ, target):
                expected = "CASE_NOT_FOUND"
            elif allows(viewer, action, target):
                expected = "INVALID_TRANSITION"
            else:
                expected = "ROLE_NOT_ALLOWED|NOT_AT_THIS_ORG"
        if got not in expected.split("|"):
            mismatches.append(f"{name}: got {got}, policy says {expected}")
    return mismatches


async def _audit(gql: GraphQLClient, headers: dict[str, str], viewer: Viewer) -> tuple[bool, bool]:
    number = "140702000000-20261026-00001"  # a demo case at 榆次区
    query = """query($n: String!) {
      auditTrail(caseNumber: $n) { caseNumber }
      auditEvents(first: 1) { edges { node { seq } } }
    }"""
    body = await gql(query, {"n": number}, **headers)
    through = _outcome(body, "auditTrail") and _outcome(body, "auditEvents")
    return through, allows(viewer, Action.READ, audit_target(number))


VILLAGE = "140702101201"  # 修文村
PROXY_MUTATIONS = {
    # each input is refused by the domain (nothing is written) once the policy lets it through
    "recordProxyAuthorization": (
        Action.RECORD_PROXY,
        '{residentIdNumber: "x", basicCode: "002000300100", scope: "x", mode: IMMEDIATE, '
        'method: WRITTEN, expiresOn: "2026-12-31", phone: "13900000000"}',
    ),
    "authorizeProxy": (
        Action.AUTHORIZE_PROXY,
        '{villageCode: "x", basicCode: "002000300100", scope: "x", mode: IMMEDIATE, '
        'expiresOn: "2026-12-31", phone: "13900000000"}',
    ),
    "revokeProxyAuthorization": (Action.REVOKE_PROXY, '{id: "nope"}'),
}


def _proxy_probe(name: str) -> Probe:
    """代办: who may try at all (at their own village, on their own authorization)."""
    action, literal = PROXY_MUTATIONS[name]

    async def probe(
        gql: GraphQLClient, headers: dict[str, str], viewer: Viewer
    ) -> tuple[bool, bool]:
        query = f"mutation {{ {name}(input: {literal}) {{ errors {{ code }} }} }}"
        body = await gql(query, **headers)
        own = Target(
            Resource.PROXY_AUTHORIZATION,
            division_code=viewer.jurisdiction,
            owner=viewer.subject,
            submitter=viewer.subject,
        )
        return _outcome(body, name), allows(viewer, action, own)

    return probe


async def _ledger(gql: GraphQLClient, headers: dict[str, str], viewer: Viewer) -> tuple[bool, bool]:
    query = 'query { villageLedger(divisionCode: "140702101201") { edges { node { number } } } }'
    body = await gql(query, **headers)
    return _outcome(body, "villageLedger"), allows(viewer, Action.READ, ledger_target(VILLAGE))


AUTHORIZATIONS = """
query($after: String) {
  proxyAuthorizations(first: 100, after: $after) {
    edges { node { id } } pageInfo { hasNextPage endCursor }
  }
}"""


async def _authorizations_listed(
    gql: GraphQLClient, headers: dict[str, str], viewer: Viewer, nodes: NodeRegistry
) -> list[str]:
    """The list holds exactly the authorizations the viewer may read."""
    visible: set[str] = set()
    after = None
    while True:
        body = await gql(AUTHORIZATIONS, {"after": after}, **headers)
        assert "errors" not in body, body
        page = body["data"]["proxyAuthorizations"]
        visible |= {e["node"]["id"] for e in page["edges"]}
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    async with nodes[Level.VILLAGE].sessions() as s:
        rows = (await s.scalars(select(ProxyAuthorization))).all()
    expected = {r.id for r in rows if allows(viewer, Action.READ, authorization_target(r))}
    if visible != expected:
        return [f"proxy authorizations listed: {len(visible)}, policy says {len(expected)}"]
    return []


# e-licences: a change a director or admin of the issuer may make, and a copy only the
# holder may ask for, each with input the service refuses after the policy let it
# through (so nothing changes for anyone)
WALLET_LICENCE = "DBZ.12140702MB00000006.000001.1.E"  # resident1's, issued by 榆次区
LICENCE_PROBES = {
    "suspendLicence": (
        Action.MANAGE_LICENCE,
        f'suspendLicence(input: {{id: "{WALLET_LICENCE}", reason: ""}})',
        "REASON_REQUIRED",
    ),
    "requestLicenceCopy": (
        Action.COPY_LICENCE,
        f'requestLicenceCopy(input: {{id: "{WALLET_LICENCE}", purpose: "开户", validDays: 0}})',
        "INVALID_COPY_VALIDITY",
    ),
}


def _licence_probe(name: str, nodes: NodeRegistry) -> Probe:
    action, call, through_code = LICENCE_PROBES[name]

    async def probe(
        gql: GraphQLClient, headers: dict[str, str], viewer: Viewer
    ) -> tuple[bool, bool]:
        body = await gql(f"mutation {{ {call} {{ errors {{ code }} }} }}", **headers)
        async with nodes[Level.CITY].sessions() as s:
            row = await s.get(ELicence, WALLET_LICENCE)
        assert row is not None and row.status is LicenceStatus.VALID  # nothing changed
        errors = ((body.get("data") or {}).get(name) or {}).get("errors") or []
        through = [e["code"] for e in errors] == [through_code]
        return through, allows(viewer, action, licence_target(row))

    return probe


async def _licences_listed(
    gql: GraphQLClient, headers: dict[str, str], viewer: Viewer, nodes: NodeRegistry
) -> list[str]:
    """The wallet / staff list holds exactly the library licences the viewer may read."""
    body = await gql("{ licences(first: 100) { edges { node { identifier } } } }", **headers)
    if not viewer.authenticated:
        codes = [e["extensions"]["code"] for e in body.get("errors", [])]
        return [] if codes == ["UNAUTHENTICATED"] else [f"licences for nobody: {body}"]
    assert "errors" not in body, body
    visible = {e["node"]["identifier"] for e in body["data"]["licences"]["edges"]}
    async with nodes[Level.CITY].sessions() as s:
        rows = (await s.scalars(select(ELicence))).all()
    expected = {r.id for r in rows if allows(viewer, Action.READ, licence_target(r))}
    if visible != expected:
        return [f"licences listed: {sorted(visible)}, policy says {sorted(expected)}"]
    return []


# 好差评 and 投诉: node(id) of every demo rating, rectification and complaint; the
# lists; and each mutation with input the service refuses once the policy let it
# through (so nothing changes for anyone)
EVALUATION_TYPES = (
    ("Evaluation", Evaluation, EvaluationType),
    ("Rectification", Rectification, RectificationType),
    ("Complaint", Complaint, ComplaintType),
)


async def _evaluation_objects(nodes: NodeRegistry) -> list[Obj]:
    out = []
    for level in LEVELS:
        async with nodes[level].sessions() as s:
            for name, model, gql_type in EVALUATION_TYPES:
                for row in await s.scalars(select(model).order_by(model.id).limit(10)):
                    target = gql_type.from_row(level, row).authz_target()  # type: ignore[attr-defined]
                    gid = encode_id(name, row.division_code, row.public_id)
                    out.append(Obj(f"{level.value}:{name}:{row.id}", gid, target))
    assert {o.label.split(":")[1] for o in out} == {"Evaluation", "Rectification", "Complaint"}
    return out


RATED_CASE = "140702000000-20261113-00001"  # resident1's birth registration, rated


async def _evaluation_rows(nodes: NodeRegistry) -> dict[str, Any]:
    """The demo rows the probes act on, as they stand."""
    async with nodes[Level.COUNTY].sessions() as s:
        good = await s.scalar(
            select(Evaluation).where(
                Evaluation.case_number == RATED_CASE, Evaluation.channel == "MOBILE"
            )
        )
        open_rect = await s.scalar(
            select(Rectification)
            .where(Rectification.status == RectificationStatus.OPEN)
            .order_by(Rectification.id.desc())
        )
        handled = await s.scalar(
            select(Complaint).where(Complaint.status == ComplaintStatus.HANDLED)
        )
        waiting = await s.scalar(
            select(Complaint).where(
                Complaint.status == ComplaintStatus.OPEN, Complaint.case_number == RATED_CASE
            )
        )
        case = await s.get(Case, RATED_CASE)
    assert good and open_rect and handled and waiting and case
    return {"good": good, "rect": open_rect, "handled": handled, "waiting": waiting, "case": case}


def _evaluation_state(rows: dict[str, Any]) -> tuple[Any, ...]:
    good, rect, handled, waiting = rows["good"], rows["rect"], rows["handled"], rows["waiting"]
    return (
        good.appeal_status, rect.status, rect.callback_note, rect.measures,
        handled.handling, waiting.status, waiting.satisfaction,
    )  # fmt: skip


def _gid(name: str, row: Any) -> str:
    return encode_id(name, row.division_code, row.public_id)


# name -> (action, the call given the rows, the code of a call the policy let through,
# whose object it is)
EVALUATION_PROBES: dict[str, tuple[Action, Callable[[dict[str, Any]], str], str, str]] = {
    "rateCase": (
        Action.RATE_CASE,
        lambda r: (
            f'rateCase(input: {{caseNumber: "{RATED_CASE}", rating: SATISFIED, '
            f'comment: "{"慢" * 501}"}})'
        ),
        "TEXT_TOO_LONG",
        "case",
    ),
    "recordCallback": (
        Action.RECTIFY,
        lambda r: f'recordCallback(input: {{id: "{_gid("Rectification", r["rect"])}", note: ""}})',
        "TEXT_REQUIRED",
        "rect",
    ),
    "completeRectification": (
        Action.RECTIFY,
        lambda r: (
            f'completeRectification(input: {{id: "{_gid("Rectification", r["rect"])}", '
            'measures: ""})'
        ),
        "TEXT_REQUIRED",
        "rect",
    ),
    "appealRating": (
        Action.RECTIFY,
        lambda r: f'appealRating(input: {{id: "{_gid("Evaluation", r["good"])}", reason: "x"}})',
        "NOT_A_BAD_RATING",
        "good",
    ),
    "decideAppeal": (
        Action.DECIDE_APPEAL,
        lambda r: f'decideAppeal(input: {{id: "{_gid("Evaluation", r["good"])}", uphold: true}})',
        "NO_PENDING_APPEAL",
        "good",
    ),
    "fileComplaint": (
        Action.FILE_COMPLAINT,
        lambda r: 'fileComplaint(input: {content: ""})',
        "COMPLAINT_TARGET_REQUIRED",
        "",
    ),
    "handleComplaint": (
        Action.HANDLE_COMPLAINT,
        lambda r: (
            f'handleComplaint(input: {{id: "{_gid("Complaint", r["handled"])}", handling: "x"}})'
        ),
        "COMPLAINT_ALREADY_HANDLED",
        "handled",
    ),
    "rateComplaintHandling": (
        Action.FILE_COMPLAINT,
        lambda r: (
            f'rateComplaintHandling(input: {{id: "{_gid("Complaint", r["waiting"])}", '
            "satisfaction: SATISFIED})"
        ),
        "COMPLAINT_NOT_HANDLED",
        "waiting",
    ),
}


def _evaluation_target(rows: dict[str, Any], whose: str) -> Target:
    if whose == "case":
        case = rows["case"]
        return Target(
            Resource.EVALUATION, division_code=case.division_code, owner=case.applicant_id,
            org_code=case.org_code,
        )  # fmt: skip
    if whose == "":
        return Target(Resource.COMPLAINT)
    row = rows[whose]
    gql_type = {Evaluation: EvaluationType, Rectification: RectificationType}.get(
        type(row), ComplaintType
    )
    target: Target = gql_type.from_row(Level.COUNTY, row).authz_target()  # type: ignore[attr-defined]
    return target


async def _evaluation_probes(
    gql: GraphQLClient, headers: dict[str, str], viewer: Viewer, nodes: NodeRegistry
) -> list[str]:
    mismatches = []
    for name, (action, call, through_code, whose) in EVALUATION_PROBES.items():
        rows = await _evaluation_rows(nodes)
        body = await gql(f"mutation {{ {call(rows)} {{ errors {{ code }} }} }}", **headers)
        after = await _evaluation_rows(nodes)
        assert _evaluation_state(after) == _evaluation_state(rows), name  # nothing changed
        errors = ((body.get("data") or {}).get(name) or {}).get("errors") or []
        got = [e["code"] for e in errors] == [through_code]
        expected = allows(viewer, action, _evaluation_target(rows, whose))
        if got != expected:
            mismatches.append(f"{name}: got {got} ({errors or body.get('errors')}), "
                              f"policy says {expected}")  # fmt: skip
    return mismatches


async def _evaluations_listed(
    gql: GraphQLClient, headers: dict[str, str], viewer: Viewer, nodes: NodeRegistry
) -> list[str]:
    """The rectification and complaint lists hold exactly what the viewer may read;
    the roll-up has figures for supervisors and auditors."""
    body = await gql(
        "{ rectifications { id } complaints { id } ratingRollup(by: ORG) { key total } }",
        **headers,
    )
    if not viewer.authenticated:
        codes = {e["extensions"]["code"] for e in body.get("errors", [])}
        return [] if codes <= {"UNAUTHENTICATED"} else [f"evaluations for nobody: {body}"]
    assert "errors" not in body, body
    mismatches = []
    for field, (name, model, gql_type) in (
        ("rectifications", EVALUATION_TYPES[1]),
        ("complaints", EVALUATION_TYPES[2]),
    ):
        visible = {r["id"] for r in body["data"][field]}
        expected = set()
        for level in LEVELS:
            async with nodes[level].sessions() as s:
                for row in await s.scalars(select(model)):
                    view = gql_type.from_row(level, row)  # type: ignore[attr-defined]
                    if allows(viewer, Action.READ, view.authz_target()):
                        expected.add(encode_id(name, row.division_code, row.public_id))
        if visible != expected:
            mismatches.append(f"{field} listed: {len(visible)}, policy says {len(expected)}")
    figures = Target(Resource.EVALUATION, division_code=(viewer.jurisdiction or "").ljust(12, "0"))
    if bool(body["data"]["ratingRollup"]) != allows(viewer, Action.READ_FIGURES, figures):
        mismatches.append(f"ratingRollup: {body['data']['ratingRollup']}")
    return mismatches


# logout last: it ends the session the other probes use
OPERATIONS: dict[str, Probe] = {
    "me": _me,
    "auditTrail/auditEvents": _audit,
    **{name: _proxy_probe(name) for name in PROXY_MUTATIONS},
    "villageLedger": _ledger,
    "approveHandoff": _approve,
    "login/refreshSession/startHandoff/completeHandoff": _sign_in_ops,
    "logout": _logout,
}


@pytest.mark.parametrize("principal", PRINCIPALS, ids=lambda p: p or "anonymous")
async def test_matrix(
    principal: str | None,
    gql: GraphQLClient,
    http: httpx.AsyncClient,
    app: Any,
    settings: Settings,
    nodes: NodeRegistry,
) -> None:
    headers: dict[str, str] = {}
    viewer = ANONYMOUS
    if principal is not None:
        if principal.startswith("client:"):
            token = await _client_token(http, settings, principal)
        else:
            token = (await signed_in(gql, principal, "WEB"))["accessToken"]
        headers = bearer(token)
        viewer = await app.state.identity.authenticate(token)
    mismatches: list[str] = []

    objects = [
        *await _objects(nodes),
        *await _licence_objects(nodes),
        *await _evaluation_objects(nodes),
    ]
    for obj in objects:
        body = await gql(NODE, {"id": obj.global_id}, **headers)
        got = _outcome(body, "node")
        expected = allows(viewer, Action.READ, obj.target)
        if got != expected:
            mismatches.append(f"node({obj.label}): got {got}, policy says {expected}")

    # lists hold exactly what the viewer may read, never an error
    visible: set[str] = set()
    after = None
    while True:
        body = await gql(DRAFTS, {"after": after}, **headers)
        assert "errors" not in body, body
        page = body["data"]["matterImplementations"]
        visible |= {e["node"]["implementationCode"] for e in page["edges"]}
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    expected_drafts = set()
    for level in LEVELS:
        async with nodes[level].sessions() as s:
            for d in await s.scalars(
                select(MatterImplementation).where(
                    MatterImplementation.status == MatterStatus.DRAFT
                )
            ):
                target = Target(Resource.DRAFT_ITEM, division_code=d.division_code)
                if allows(viewer, Action.READ, target):
                    expected_drafts.add(d.code)
    if visible != expected_drafts:
        mismatches.append(f"drafts listed: {len(visible)}, policy says {len(expected_drafts)}")

    async with nodes[Level.COUNTY].sessions() as s:
        archived = await s.scalar(
            select(Case).where(Case.status == CaseStatus.ARCHIVED).order_by(Case.number)
        )
    assert archived is not None
    mismatches += await _case_steps(gql, headers, viewer, archived)
    mismatches += await _case_steps(gql, headers, viewer, await _village_case(nodes))
    mismatches += await _authorizations_listed(gql, headers, viewer, nodes)
    mismatches += await _licences_listed(gql, headers, viewer, nodes)
    for name in LICENCE_PROBES:
        got, expected = await _licence_probe(name, nodes)(gql, headers, viewer)
        if got != expected:
            mismatches.append(f"{name}: got {got}, policy says {expected}")
    mismatches += await _evaluations_listed(gql, headers, viewer, nodes)
    mismatches += await _evaluation_probes(gql, headers, viewer, nodes)

    for name, probe in OPERATIONS.items():
        got, expected = await probe(gql, headers, viewer)
        if got != expected:
            mismatches.append(f"{name}: got {got}, policy says {expected}")
    assert not mismatches, "\n".join(mismatches)


async def test_the_matrix_has_both_outcomes_for_drafts(nodes: NodeRegistry) -> None:
    """Guard against a vacuous matrix: some principal sees drafts, another does not."""
    drafts = [o for o in await _objects(nodes) if o.target.resource is Resource.DRAFT_ITEM]
    assert drafts
    inside = Viewer(AccountKind.AUDITOR, "a", jurisdiction="140700000000")
    outside = Viewer(
        AccountKind.STAFF, "b", roles=frozenset({Role.ADMIN}), jurisdiction="140702000000"
    )
    assert all(allows(inside, Action.READ, d.target) for d in drafts)
    assert not any(allows(outside, Action.READ, d.target) for d in drafts)


def test_every_field_that_returns_objects_is_guarded() -> None:
    schema = build_schema()._schema
    unguarded = []
    for gql_type in schema.type_map.values():
        if not isinstance(gql_type, GraphQLObjectType) or gql_type.name.startswith("__"):
            continue
        for name, field in gql_type.fields.items():
            named = get_named_type(field.type)
            returns_objects = isinstance(
                named, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType
            )
            if returns_objects and not getattr(field.resolve, "__govhub_guarded__", False):
                unguarded.append(f"{gql_type.name}.{name}")
    assert unguarded == []


def test_the_matrix_has_both_outcomes_for_the_proxy_service() -> None:
    """Guard against vacuous 代办 cells: an agent reaches their village, not another."""
    agent = Viewer(AccountKind.AGENT, "a", jurisdiction=VILLAGE)
    other = Viewer(AccountKind.AGENT, "b", jurisdiction="140702101202")
    resident = Viewer(AccountKind.PERSON, "r")
    case = Target(Resource.CASE, division_code=VILLAGE, submitter="a")
    assert allows(agent, Action.READ, ledger_target(VILLAGE))
    assert not allows(other, Action.READ, ledger_target(VILLAGE))
    assert allows(agent, Action.RECEIVE_CASE, case)
    assert not allows(other, Action.RECEIVE_CASE, case)
    given = Target(Resource.PROXY_AUTHORIZATION, division_code=VILLAGE, owner="r", submitter="")
    assert allows(resident, Action.REVOKE_PROXY, given)
    assert allows(agent, Action.READ, given) and not allows(agent, Action.REVOKE_PROXY, given)
    assert not allows(other, Action.READ, given)


async def test_the_matrix_has_both_outcomes_for_evaluations(nodes: NodeRegistry) -> None:
    """Guard against vacuous 好差评 cells: each probe lets one demo viewer through and
    refuses another."""
    rows = await _evaluation_rows(nodes)
    case = rows["case"]
    applicant = Viewer(AccountKind.PERSON, case.applicant_id)
    other = Viewer(AccountKind.PERSON, "someone-else")

    def staff(role: Role, org: str = case.org_code, division: str = "140702000000") -> Viewer:
        return Viewer(AccountKind.STAFF, "s", roles=frozenset({role}), org_code=org,
                      jurisdiction=division)  # fmt: skip

    through = {
        Action.RATE_CASE: applicant,
        Action.RECTIFY: staff(Role.RECEPTIONIST),
        Action.DECIDE_APPEAL: staff(Role.SUPERVISOR),
        Action.FILE_COMPLAINT: applicant,
        Action.HANDLE_COMPLAINT: staff(Role.SUPERVISOR),
    }
    refused = staff(Role.SUPERVISOR, "12140703MB0000000X", "140703000000")
    for name, (action, _call, _code, whose) in EVALUATION_PROBES.items():
        target = _evaluation_target(rows, whose)
        assert allows(through[action], action, target), name
        assert not allows(refused, action, target), name
    assert not allows(other, Action.RATE_CASE, _evaluation_target(rows, "case"))
    assert not allows(other, Action.FILE_COMPLAINT, _evaluation_target(rows, "waiting"))
