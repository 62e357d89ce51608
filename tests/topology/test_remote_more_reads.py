"""More reads the hub makes through the nodes' APIs (the processes of
``tests/support/federation.py``, the hub's own stores for the nodes left empty),
compared with the same queries answered by SQL over the nodes' own stores:
``divisions(parentCode:, level:)``, ``catalogueVersions``, the ``delegations`` list;
ratings, rectifications and complaints by public id and a rating's rectification; the
working-day calendar of a window's ``open`` and ``queue`` and of a case's clock."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager
from typing import Any

import pytest

from tests.conftest import DEMO_NOW
from tests.scenarios.desk import Desk, at
from tests.scenarios.test_queue import (
    A02,
    APPOINTMENT,
    BOOK,
    ISSUE,
    OPEN_SLOTS,
    TICKET,
    YUCI_ORG,
    _do,
)
from tests.support.federation import (
    CITY,
    TAIGU,
    YUCI,
    Federation,
    counted_calls,
    every_page,
    sql_desk,
)


def _call_key(document: str, given: dict[str, Any]) -> tuple[str, Any]:
    words = document.split()
    operation = words[1].split("(")[0] if words[0] == "query" else words[0]
    return operation, given.get("of")


def calls(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> AbstractContextManager[Counter[Any]]:
    """The hub's calls to the nodes while the block runs: by node, operation (the
    document's name) and kind (a records call's ``of``)."""
    return counted_calls(federation, monkeypatch, _call_key)


@pytest.fixture(scope="module")
async def by_sql(federation: Federation) -> AsyncIterator[Desk]:
    async with sql_desk(federation) as desk:
        yield desk


DIVISIONS = """
query($parent: String, $level: Level, $after: String) {
  divisions(parentCode: $parent, level: $level, first: 7, after: $after) {
    edges { cursor node { code name level parent { code } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
# (parentCode, level, the nodes a page asks)
DIVISION_ARGS: list[tuple[str | None, str | None, set[str]]] = [
    (None, "COUNTY", {CITY, YUCI, TAIGU}),
    (None, "CITY", {CITY}),
    ("140700000000", None, {CITY, YUCI, TAIGU}),
    ("140702000000", None, {YUCI}),
    ("140702000000", "VILLAGE", {YUCI}),
    ("140703101000", None, {TAIGU}),
]


async def _divisions(desk: Desk, parent: str | None, level: str | None) -> list[Any]:
    return await every_page(desk, "jz.auditor", DIVISIONS, "divisions", parent=parent, level=level)


async def test_divisions_are_the_sql_paths_a_page_one_call_per_node(
    federation: Federation, by_sql: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    for parent, level, nodes in DIVISION_ARGS:
        remote = await _divisions(federation.desk, parent, level)
        assert remote == await _divisions(by_sql, parent, level), (parent, level)
        assert remote, (parent, level)
        with calls(federation, monkeypatch) as counted:
            await federation.desk.run("jz.auditor", DIVISIONS, parent=parent, level=level)
        # a page: one call per node holding the level (the parents: one batch per node)
        listing = {k: v for k, v in counted.items() if k[1] == "Divisions"}
        assert listing == {(n, "Divisions", None): 1 for n in nodes}, (parent, level)
    # with the cursor of the hub (one position per node), the second page follows on
    first = await federation.desk.run("jz.auditor", DIVISIONS, parent=None, level="COUNTY")
    after = first["divisions"]["pageInfo"]["endCursor"]
    second = await federation.desk.run("jz.auditor", DIVISIONS, level="COUNTY", after=after)
    assert second == await by_sql.run("jz.auditor", DIVISIONS, level="COUNTY", after=after)


VERSIONS = """
query($version: Int) {
  catalogueVersions(version: $version) {
    version batch publishedAt urgent reason matterCount matters { basicCode name }
  }
}"""

DELEGATIONS = """
query($to: String, $from: String, $active: Boolean) {
  delegations(toDivisionCode: $to, fromDivisionCode: $from, activeOnly: $active) {
    id allTowns legalInstrument effectiveFrom revokedAt basicCode inForce
    towns { code } fromOrg { code }
  }
}"""
# (the arguments, the nodes asked: those holding the counties the ends narrow it to)
DELEGATION_ARGS: list[tuple[dict[str, Any], set[str]]] = [
    ({}, {CITY, YUCI, TAIGU}),
    ({"active": True}, {CITY, YUCI, TAIGU}),
    ({"from": "140700000000"}, {CITY, YUCI, TAIGU}),
    ({"from": "140702000000"}, {YUCI}),
    ({"from": "140703000000", "active": True}, {TAIGU}),
    ({"to": "140702101000"}, {YUCI}),
    ({"to": "140702101201", "active": True}, {YUCI}),
    ({"to": "140703101000", "from": "140702000000"}, set()),  # two counties: none
]


async def test_catalogue_versions_and_delegations_are_the_sql_paths(
    federation: Federation, by_sql: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    with calls(federation, monkeypatch) as counted:
        versions = await federation.desk.run("resident1", VERSIONS)
    assert versions == await by_sql.run("resident1", VERSIONS)
    assert versions["catalogueVersions"]
    assert counted == Counter({(CITY, "Versions", None): 1})
    newest = versions["catalogueVersions"][0]["version"]
    one = await federation.desk.run("resident1", VERSIONS, version=newest)
    assert one == await by_sql.run("resident1", VERSIONS, version=newest)

    found = 0
    for given, nodes in DELEGATION_ARGS:
        with calls(federation, monkeypatch) as counted:
            remote = await federation.desk.run("jz.auditor", DELEGATIONS, **given)
        assert remote == await by_sql.run("jz.auditor", DELEGATIONS, **given), given
        found += len(remote["delegations"])
        # each node holding those counties once, beside the fields' loaders
        listed = {n: k for (n, op, _), k in counted.items() if op == "Delegations"}
        assert listed == dict.fromkeys(nodes, 1), (given, counted)
    assert found


RECTIFICATIONS = "{ rectifications { id caseNumber } }"
COMPLAINTS = "{ complaints { id caseNumber divisionCode } }"
CASE_RATINGS = """
query($number: String!) { case(number: $number) { ratings { id rating } } }"""
NODE = """
query($id: ID!) {
  node(id: $id) {
    id
    ... on Evaluation {
      caseNumber channel rating negative comment ratedAt orgCode appealStatus
      rectification { id status dueOn overdue callbackNote }
    }
    ... on Rectification { caseNumber status openedAt dueOn measures overdue }
    ... on Complaint { complained: caseNumber windowId orgCode divisionCode content filedAt }
  }
}"""


async def test_ratings_rectifications_and_complaints_by_id_are_the_sql_paths(
    federation: Federation, by_sql: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    rectifications = (await by_sql.run("jz.auditor", RECTIFICATIONS))["rectifications"]
    complaints = (await by_sql.run("jz.auditor", COMPLAINTS))["complaints"]
    numbers = {r["caseNumber"] for r in rectifications} | {
        "140700000000-20261026-00001",
        "140702000000-20260915-00001",
    }
    ratings = [
        r["id"]
        for n in sorted(numbers)
        for r in (await by_sql.run("jz.auditor", CASE_RATINGS, number=n))["case"]["ratings"]
    ]
    ids = ratings + [r["id"] for r in rectifications] + [c["id"] for c in complaints]
    assert rectifications and complaints and len(ratings) >= 3
    with_rectification = 0
    for gid in ids:
        with calls(federation, monkeypatch) as counted:
            remote = await federation.desk.run("jz.auditor", NODE, id=gid)
        assert remote == await by_sql.run("jz.auditor", NODE, id=gid), gid
        assert remote["node"] is not None, gid
        with_rectification += bool(remote["node"].get("rectification"))
        # the row at the one node holding it; a rating's rectification there too
        assert len({n for n, _, _ in counted}) == 1, (gid, counted)
        kinds = {of for _, _, of in counted}
        assert kinds <= {
            "EVALUATIONS",
            "RECTIFICATIONS",
            "COMPLAINTS",
            "RECTIFICATIONS_OF_EVALUATION",
        }, counted
        assert set(counted.values()) == {1}, counted
    assert with_rectification


WINDOWS = """
query($code: String!) {
  division(code: $code) {
    serviceOrg { windows { id open queue { waiting nowServing } } }
  }
}"""
CLOCKS = """
{ cases(first: 30) { edges { node { number clock { state workingDaysLeft } } } } }"""


async def test_the_calendar_is_asked_of_the_node_concerned_only(
    federation: Federation, by_sql: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    for code, node in (("140702000000", YUCI), ("140703000000", TAIGU)):
        with calls(federation, monkeypatch) as counted:
            remote = await federation.desk.run("jz.auditor", WINDOWS, code=code)
        assert remote == await by_sql.run("jz.auditor", WINDOWS, code=code)
        assert remote["division"]["serviceOrg"]["windows"], code
        assert {k for k in counted if k[1] == "Calendar"} == {(node, "Calendar", None)}
        assert counted[(node, "Calendar", None)] == 1
    with calls(federation, monkeypatch) as counted:
        remote = await federation.desk.run("yuci.auditor", CLOCKS)
    assert remote == await by_sql.run("yuci.auditor", CLOCKS)
    asked = {n: k for (n, op, _), k in counted.items() if op == "Calendar"}
    assert asked == {YUCI: 1}, counted


SLOTS = """
query($org: String!, $date: Date!) {
  appointmentSlots(orgCode: $org, date: $date) { id starts ends capacity remaining }
}"""
MINE = f"""
{{
  myTickets {{ {TICKET} }}
  myAppointments {{ {APPOINTMENT} }}
}}"""


async def test_slots_and_the_viewers_tickets_and_appointments_are_the_sql_paths(
    federation: Federation, by_sql: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = federation.desk
    day, booking_day = dt.date(2025, 11, 18), dt.date(2025, 11, 19)
    for name in ("yuci.admin", "resident1"):
        await desk.sign_in(name)
        await by_sql.sign_in(name)
    for hub in (desk, by_sql):
        await hub.travel(at(day, 10))
    slots = [{"starts": "09:00", "ends": "09:30", "capacity": 3}]
    opened = await _do(
        desk, "yuci.admin", OPEN_SLOTS, windowId=A02, date=booking_day.isoformat(), slots=slots
    )
    assert opened["errors"] == [], opened
    booked = await _do(desk, "resident1", BOOK, slotId=opened["slots"][0]["id"])
    assert booked["errors"] == [], booked
    issued = await _do(desk, "resident1", ISSUE, orgCode=YUCI_ORG, basicCode="000700400100")
    assert issued["errors"] == [], issued

    with calls(federation, monkeypatch) as counted:
        remote = await desk.run("resident1", SLOTS, org=YUCI_ORG, date=booking_day.isoformat())
    assert remote == await by_sql.run(
        "resident1", SLOTS, org=YUCI_ORG, date=booking_day.isoformat()
    )
    assert [s["remaining"] for s in remote["appointmentSlots"]] == [2]
    # the org found at its node, then its slots there
    assert {n for n, _, _ in counted} == {YUCI}
    assert counted[(YUCI, "Slots", None)] == 1 and sum(counted.values()) == 2, counted

    with calls(federation, monkeypatch) as counted:
        mine = await desk.run("resident1", MINE)
    assert mine == await by_sql.run("resident1", MINE)
    assert issued["ticket"]["id"] in {t["id"] for t in mine["myTickets"]}
    assert booked["appointment"]["id"] in {a["id"] for a in mine["myAppointments"]}
    # every node once for each list (a holder's rows may be at any), then the fields'
    for listing in ("TicketsOf", "AppointmentsOf"):
        asked = {n: k for (n, op, _), k in counted.items() if op == listing}
        assert asked == dict.fromkeys((CITY, YUCI, TAIGU), 1), counted
    # the fields' reads (windows, boards) at the node of the rows (榆次区's) only
    fields = {n for (n, op, _) in counted if op not in ("TicketsOf", "AppointmentsOf")}
    assert fields == {YUCI}, counted
    # the SQL path's hub back at the demo's clock, as the federation's hub is after
    # each test: the module's tests after this one compare the two
    await by_sql.travel(DEMO_NOW)


LICENCE_TYPES = "{ licenceTypes { code name validityYears fields { key } } }"
LIBRARY = "{ licences(first: 100) { edges { node { identifier } } } }"
LICENCE = """
query($identifier: String!) {
  licence(identifier: $identifier) {
    identifier typeCode typeName version issuerOrgCode issuerName issuerLevel holderName
    sourceCaseNumber validFrom validUntil status statusReason issuedAt supersedes
    uses { kind caseNumber purpose usedByOrg usedAt }
  }
}"""


async def test_the_licence_library_is_the_sql_paths(
    federation: Federation, by_sql: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    with calls(federation, monkeypatch) as counted:
        types = await federation.desk.run("jz.auditor", LICENCE_TYPES)
    assert types == await by_sql.run("jz.auditor", LICENCE_TYPES)
    assert types["licenceTypes"]
    assert counted == Counter({(CITY, "LicenceTypes", None): 1})

    library = (await by_sql.run("jz.auditor", LIBRARY))["licences"]["edges"]
    identifiers = [e["node"]["identifier"] for e in library]
    assert identifiers
    for identifier in identifiers:
        with calls(federation, monkeypatch) as counted:
            remote = await federation.desk.run("jz.auditor", LICENCE, identifier=identifier)
        assert remote == await by_sql.run("jz.auditor", LICENCE, identifier=identifier)
        assert remote["licence"] is not None, identifier
        # the library's row and its uses at the city node, the status at the issuer's
        kinds = {(n, of) for n, _, of in counted}
        assert {(CITY, "LICENCES"), (CITY, "LICENCE_USES")} <= kinds, counted
        assert {of for _, of in kinds} <= {"LICENCES", "LICENCE_USES", "LICENCE_TYPES"}
        assert set(counted.values()) == {1}, counted


async def test_a_stopped_node_leaves_the_others_and_is_named(
    federation: Federation, by_sql: Desk
) -> None:
    counties = await _divisions(by_sql, None, "COUNTY")
    delegations = (await by_sql.run("jz.auditor", DELEGATIONS))["delegations"]
    await federation.served[TAIGU].stop()

    body = await federation.desk.ask(
        "jz.auditor", DIVISIONS.replace("first: 7", "first: 50"), level="COUNTY"
    )
    named = {(e["extensions"]["code"], e["extensions"]["node"]) for e in body["errors"]}
    assert named == {("NODE_UNAVAILABLE", TAIGU)}
    listed = [e["node"] for e in body["data"]["divisions"]["edges"]]
    assert listed == [c for c in counties if c["code"] != "140703000000"]

    body = await federation.desk.ask("jz.auditor", DELEGATIONS)
    named = {(e["extensions"]["code"], e["extensions"]["node"]) for e in body["errors"]}
    assert named == {("NODE_UNAVAILABLE", TAIGU)}
    assert body["data"]["delegations"] == [
        d for d in delegations if not d["fromOrg"]["code"][2:8].startswith("140703")
    ]

    body = await federation.desk.ask("jz.auditor", WINDOWS, code="140703000000")
    named = {(e["extensions"]["code"], e["extensions"]["node"]) for e in body["errors"]}
    assert named == {("NODE_UNAVAILABLE", TAIGU)}

    # the viewer's own: the others' tickets and appointments, 太谷区 named
    mine = await by_sql.run("resident1", MINE)
    body = await federation.desk.ask("resident1", MINE)
    named = {(e["extensions"]["code"], e["extensions"]["node"]) for e in body["errors"]}
    assert named == {("NODE_UNAVAILABLE", TAIGU)}
    assert body["data"] == mine
