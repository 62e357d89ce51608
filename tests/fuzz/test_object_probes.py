"""The standing corpus of object-level probes, from outside over HTTP: for every kind of
object reachable by a key (a case number, a global ID, a licence identifier, an
authorization or message id), every viewer who must not read it — another resident,
nobody signed in, staff of another county, an agent of another village, an auditor of
another jurisdiction trying a mutation — gets, for each query and mutation that takes
the key, exactly the answer a key nobody holds gets: no 5xx, no uncoded error, and no
name, masked ID or token of the owner in the refusal.

Who must not read an object is decided by the policy table itself (``auth.policy``,
for the viewer the hub decodes from each token), as in ``tests/auth/
test_policy_matrix.py``; this corpus checks that a refusal cannot be told from absence.
docs/concepts/identity.md "Who may do what" and "Identity" › Errors say what the hub does."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select

from auth.models import Account
from auth.policy import Action, Resource, Target, allows
from auth.viewer import ANONYMOUS, Viewer
from gateway.nodes import NodeRegistry
from levels.cases.models import Case
from levels.common.enums import Level
from levels.common.publicids import new_public_id
from levels.evaluations.models import Complaint, Evaluation, Rectification
from levels.licences.identifiers import make_licence_id, parse_licence_id
from levels.licences.models import ELicence
from levels.outbox.models import OutboxMessage
from levels.proxy.models import ProxyAuthorization
from levels.windows.models import Appointment, QueueTicket
from resolvers.globalid import encode_id
from schema.cases import case_target
from schema.evaluations import ComplaintType, EvaluationType, RectificationType
from schema.licences import licence_target
from schema.outbox import message_target
from schema.proxy import authorization_target
from schema.windows import TicketType
from tests.fuzz.conftest import FuzzHub

# the viewers who probe: every kind, inside and outside each object's reach
PROBERS: list[str | None] = [
    None,
    "resident1",
    "resident2",
    "resident4",
    "firm1",
    "yuci.receptionist",
    "yuci.reviewer",
    "taigu.reviewer",  # staff of another county
    "xiuwen.receptionist",
    "agent.140702101201.1",
    "agent.140702101202.1",  # an agent of another village
    "jz.auditor",
    "yuci.auditor",
    "xiuwen.auditor",  # an auditor of a town: a county's objects are outside
]


def unheld_id(type_name: str, division_code: str) -> str:
    """The global ID of a row of ``division_code`` that no store holds."""
    return encode_id(type_name, division_code, new_public_id(division_code))


@dataclass(frozen=True)
class Probe:
    """One query or mutation that takes the key: ``{key}`` in ``variables`` is replaced
    by the key under test."""

    name: str
    query: str
    variables: dict[str, Any]


@dataclass
class Obj:
    label: str
    key: str
    unheld: str  # the same kind of key, held by nothing
    target: Target
    owner: str | None  # the account whose it is
    probes: list[Probe] = field(default_factory=list)


NODE = Probe(
    "node",
    """query($id: ID!) { node(id: $id) { id __typename
        ... on Case { applicantName applicantIdMasked }
        ... on ELicence { holderName holderIdMasked } } }""",
    {"id": "{key}"},
)


def _mutation(name: str, input_type: str, selection: str, **input: Any) -> Probe:
    query = f"""mutation($input: {input_type}!) {{
      {name}(input: $input) {{ {selection} errors {{ code field message }} }}
    }}"""
    return Probe(name, query, {"input": input})


CASE_FIELDS = "case { number applicantName applicantIdMasked }"
CASE_PROBES = [
    Probe(
        "case",
        """query($n: String!) { case(number: $n) { number applicantName applicantIdMasked
            applicantKind timeline { action } } }""",
        {"n": "{key}"},
    ),
    _mutation("acceptCase", "CaseActionInput", CASE_FIELDS, number="{key}"),
    _mutation("withdrawCase", "CaseActionInput", CASE_FIELDS, number="{key}"),
    _mutation(
        "rateCase", "RateCaseInput", "evaluation { id }", caseNumber="{key}", rating="SATISFIED"
    ),
]
TICKET_PROBES = [
    _mutation("cancelTicket", "TicketActionInput", "ticket { id number }", ticketId="{key}"),
    _mutation("serveTicket", "TicketActionInput", "ticket { id number }", ticketId="{key}"),
]
APPOINTMENT_PROBES = [
    _mutation(
        "cancelAppointment", "AppointmentActionInput", "appointment { id }", appointmentId="{key}"
    ),
    _mutation(
        "checkInAppointment", "AppointmentActionInput", "appointment { id }", appointmentId="{key}"
    ),
]
EVALUATION_PROBES = [
    NODE,
    _mutation("appealRating", "AppealRatingInput", "evaluation { id }", id="{key}", reason="r"),
    _mutation("decideAppeal", "DecideAppealInput", "evaluation { id }", id="{key}", uphold=False),
]
RECTIFICATION_PROBES = [
    NODE,
    _mutation(
        "recordCallback", "RecordCallbackInput", "rectification { id }", id="{key}", note="n"
    ),
]
COMPLAINT_PROBES = [
    NODE,
    _mutation(
        "handleComplaint", "HandleComplaintInput", "complaint { id }", id="{key}", handling="h"
    ),
    _mutation(
        "rateComplaintHandling",
        "RateComplaintHandlingInput",
        "complaint { id }",
        id="{key}",
        satisfaction="SATISFIED",
    ),
]
LICENCE_PROBES = [
    Probe(
        "licence",
        "query($k: String!) { licence(identifier: $k) { identifier holderName holderIdMasked } }",
        {"k": "{key}"},
    ),
    _mutation("requestLicenceCopy", "LicenceCopyInput", "copy { token }", id="{key}", purpose="p"),
    _mutation("suspendLicence", "LicenceActionInput", "licence { identifier }", id="{key}"),
]
AUTHORIZATION_PROBES = [
    _mutation(
        "revokeProxyAuthorization",
        "RevokeProxyAuthorizationInput",
        "authorization { id residentName }",
        id="{key}",
    ),
]
MESSAGE_PROBES = [_mutation("retryMessage", "RetryMessageInput", "message { id }", id="{key}")]


def _fill(value: Any, key: str) -> Any:
    if value == "{key}":
        return key
    if isinstance(value, dict):
        return {k: _fill(v, key) for k, v in value.items()}
    return value


def _unheld_number(number: str) -> str:
    return f"{number.rsplit('-', 1)[0]}-99999"


async def _first(nodes: NodeRegistry, level: Level, stmt: Any) -> Any:
    async with nodes[level].sessions() as session:
        row = await session.scalar(stmt.limit(1))
    assert row is not None, stmt
    return row


async def _objects(nodes: NodeRegistry) -> list[Obj]:
    """One object of every kind the demo city holds, of the levels that hold them."""
    async with nodes.identity.sessions() as session:
        resident1 = await session.scalar(select(Account.id).where(Account.username == "resident1"))
    out: list[Obj] = []
    county = await _first(
        nodes,
        Level.COUNTY,
        select(Case).where(Case.applicant_id == resident1).order_by(Case.number),
    )
    village = await _first(
        nodes,
        Level.VILLAGE,
        select(Case).where(Case.submitted_by.is_not(None)).order_by(Case.number),
    )
    for level, case in ((Level.COUNTY, county), (Level.VILLAGE, village)):
        target, owner = case_target(case), case.applicant_id
        out.append(
            Obj(f"{level.value} case", case.number, _unheld_number(case.number), target, owner,
                CASE_PROBES)
        )  # fmt: skip
        gid = encode_id("Case", case.division_code, case.number)
        unheld = encode_id("Case", case.division_code, _unheld_number(case.number))
        out.append(Obj(f"{level.value} case node", gid, unheld, target, owner, [NODE]))
    ticket = await _first(
        nodes, Level.COUNTY, select(QueueTicket).where(QueueTicket.holder_id.is_not(None))
    )
    out.append(
        Obj("ticket", encode_id("Ticket", ticket.division_code, ticket.public_id),
            unheld_id("Ticket", ticket.division_code),
            TicketType.from_row(ticket).authz_target(), ticket.holder_id, TICKET_PROBES)
    )  # fmt: skip
    appointment = await _first(nodes, Level.COUNTY, select(Appointment))
    out.append(
        Obj("appointment",
            encode_id("Appointment", appointment.division_code, appointment.public_id),
            unheld_id("Appointment", appointment.division_code),
            Target(Resource.APPOINTMENT, division_code=appointment.division_code,
                   owner=appointment.person_id, org_code=appointment.org_code),
            appointment.person_id, APPOINTMENT_PROBES)
    )  # fmt: skip
    for model, view, probes in (
        (Evaluation, EvaluationType, EVALUATION_PROBES),
        (Rectification, RectificationType, RECTIFICATION_PROBES),
        (Complaint, ComplaintType, COMPLAINT_PROBES),
    ):
        row = await _first(nodes, Level.COUNTY, select(model))
        name = model.__name__
        target = view.from_row(Level.COUNTY, row).authz_target()
        out.append(
            Obj(name.lower(), encode_id(name, row.division_code, row.public_id),
                unheld_id(name, row.division_code), target, target.owner, probes)
        )  # fmt: skip
    licence = await _first(
        nodes, Level.CITY, select(ELicence).where(ELicence.holder_id == resident1)
    )
    parsed = parse_licence_id(licence.id)
    unheld_licence = make_licence_id(parsed.type_code, parsed.issuer_org_code, 999_999, 1)
    issuer = licence.issuer_division_code
    out.append(
        Obj("licence", licence.id, unheld_licence, licence_target(licence), licence.holder_id,
            LICENCE_PROBES)
    )  # fmt: skip
    out.append(
        Obj("licence node", encode_id("ELicence", issuer, licence.id),
            encode_id("ELicence", issuer, unheld_licence), licence_target(licence),
            licence.holder_id, [NODE])
    )  # fmt: skip
    granted = await _first(nodes, Level.VILLAGE, select(ProxyAuthorization))
    out.append(
        Obj("proxy authorization", granted.id, "f" * len(granted.id),
            authorization_target(granted), granted.resident_id, AUTHORIZATION_PROBES)
    )  # fmt: skip
    for level in (Level.VILLAGE, Level.TOWN, Level.COUNTY):
        async with nodes[level].sessions() as session:
            message = await session.scalar(select(OutboxMessage).limit(1))
        if message is not None:
            out.append(
                Obj(f"{level.value} outbox message", message.id, "f" * 32,
                    message_target(message.division_code), None, MESSAGE_PROBES)
            )  # fmt: skip
            break
    return out


@dataclass
class Prober:
    name: str | None
    token: str | None
    viewer: Viewer

    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"} if self.token else {}


@pytest.fixture(scope="module")
async def probers(fuzz_hub: FuzzHub) -> list[Prober]:
    identity = fuzz_hub.app.state.identity
    out = []
    for name in PROBERS:
        token = await fuzz_hub.token_for(name)
        viewer = await identity.authenticate(token) if token else ANONYMOUS
        out.append(Prober(name, token, viewer))
    return out


async def _owner_marks(fuzz_hub: FuzzHub, owner: str | None) -> list[str]:
    """What would give the owner away: their name, masked ID number, credit code."""
    if owner is None:
        return []
    nodes: NodeRegistry = fuzz_hub.app.state.nodes
    async with nodes.identity.sessions() as session:
        account = await session.get(Account, owner)
    assert account is not None
    marks = [account.display_name, account.id_number_masked, account.credit_code, account.id]
    return [m for m in marks if m]


def _assert_clean(status: int, body: dict[str, Any], marks: list[str], where: str) -> None:
    assert status < 500, where
    for error in body.get("errors") or []:
        assert (error.get("extensions") or {}).get("code"), (where, error)
        # raised by a field that ran: never a document the hub could not validate
        assert error.get("path"), (where, error)
    for payload in (body.get("data") or {}).values():
        for error in (payload or {}).get("errors") or [] if isinstance(payload, dict) else []:
            assert error.get("code"), (where, error)
    text = json.dumps(body, ensure_ascii=False)
    for mark in marks:
        assert mark not in text, (where, mark)


async def test_a_refusal_cannot_be_told_from_absence(
    fuzz_hub: FuzzHub, probers: list[Prober]
) -> None:
    objects = await _objects(fuzz_hub.app.state.nodes)
    assert len(objects) >= 12
    probed = 0
    async with fuzz_hub.client() as http:
        for obj in objects:
            marks = await _owner_marks(fuzz_hub, obj.owner)
            owner_token = next(
                (p.token for p in probers if p.token and p.viewer.subject == obj.owner), None
            )
            marks += [owner_token] if owner_token else []
            outsiders = [p for p in probers if not allows(p.viewer, Action.READ, obj.target)]
            assert outsiders, obj.label
            for prober in outsiders:
                for probe in obj.probes:
                    answers = []
                    for key in (obj.key, obj.unheld):
                        response = await http.post(
                            "/graphql",
                            json={"query": probe.query, "variables": _fill(probe.variables, key)},
                            headers=prober.headers(),
                        )
                        where = f"{obj.label} / {probe.name} / {prober.name}"
                        body = response.json()
                        _assert_clean(response.status_code, body, marks, where)
                        answers.append((response.status_code, body))
                    assert answers[0] == answers[1], (where, answers)
                    probed += 1
    assert probed > 100


async def test_an_auditor_who_may_read_it_is_refused_a_mutation_without_the_owner(
    fuzz_hub: FuzzHub, probers: list[Prober]
) -> None:
    """An auditor within reach knows the object exists (they may read it), so a
    refused mutation may say why — coded, and still without the owner's data."""
    objects = await _objects(fuzz_hub.app.state.nodes)
    auditors = [p for p in probers if p.name in ("jz.auditor", "yuci.auditor")]
    async with fuzz_hub.client() as http:
        for obj in objects:
            marks = await _owner_marks(fuzz_hub, obj.owner)
            for prober in auditors:
                if not allows(prober.viewer, Action.READ, obj.target):
                    continue
                for probe in obj.probes:
                    if not probe.query.lstrip().startswith("mutation"):
                        continue
                    response = await http.post(
                        "/graphql",
                        json={"query": probe.query, "variables": _fill(probe.variables, obj.key)},
                        headers=prober.headers(),
                    )
                    where = f"{obj.label} / {probe.name} / {prober.name}"
                    body = response.json()
                    _assert_clean(response.status_code, body, marks, where)
                    payload = (body.get("data") or {}).get(probe.name)
                    refused = body.get("errors") or (payload and payload["errors"])
                    assert refused, (where, body)
