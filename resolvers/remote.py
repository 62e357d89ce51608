"""The hub's reads through a node's API (DESIGN §2, "A node is a service"), for a node
the map gives an ``http(s)://`` address: entity lookups by key, one ``_entities`` call
per node per batch, and the lists of cases (by key range, of an account) with their
cursor. Each answer is the
node's row, every column (``columns``, ``levels/common/rowcodec.py``), made into a
transient instance of the mapped class the hub's types already read. And what a node
answers to a case step it was asked to take (``step_outcome``), or to a queue
ticket it was asked to issue or call (``ticket_outcome``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from levels.cases.models import Case
from levels.city.models import Matter
from levels.common.enums import MatterStatus, MatterType, OnlineLevel
from levels.common.errors import DomainError
from levels.common.models import Division, MatterImplementation, ServiceOrg, Window
from levels.common.rowcodec import decode_row
from levels.county.models import Delegation
from levels.county.service import DelegationView
from levels.node.boards import decode_board
from levels.node.case_filter import CaseConditions
from levels.node.cursors import case_cursor, encode_cursor
from levels.node.item_filter import ItemConditions
from levels.node.records import KINDS, ORG_KINDS, CaseRecordKind, OrgRecordKind
from levels.node.steps import StepOutcome, code_of
from levels.node.windows import Outcome, TicketOutcome
from levels.windows.board import Board
from levels.windows.models import Appointment, AppointmentSlot, QueueTicket
from resolvers.nodeclient import NodeCallFailed, NodeClient

_CASES = """
query Cases($under: String!, $first: Int!, $after: String, $filter: JSON) {
  cases(under: $under, first: $first, after: $after, filter: $filter) {
    rows
    pageInfo { hasNextPage }
  }
}
"""


_CASES_OF = """
query CasesOf(
  $subject: String!, $under: String, $first: Int!, $after: String, $filter: JSON
) {
  casesOf(subject: $subject, under: $under, first: $first, after: $after, filter: $filter) {
    rows
    pageInfo { hasNextPage }
  }
}
"""


_CASE_RECORDS = """
query CaseRecords($of: CaseRecordKind!, $numbers: [String!]!) {
  caseRecords(of: $of, numbers: $numbers) { columns }
}
"""


async def case_records(
    client: NodeClient, kind: CaseRecordKind, numbers: Sequence[str]
) -> list[Any]:
    """The node's records of ``kind`` of these cases (one call for the batch), each a
    transient instance of its mapped class, in the node's order."""
    data = await client.query(_CASE_RECORDS, {"of": kind.name, "numbers": list(numbers)})
    found = data.get("caseRecords")
    if not isinstance(found, list):
        raise NodeCallFailed(f"node {client.node_id}: caseRecords answered {found!r}")
    model = KINDS[kind].model
    return [decode_row(model, item["columns"]) for item in found]


_ORG_RECORDS = """
query OrgRecords($of: OrgRecordKind!, $keys: [String!]!) {
  orgRecords(of: $of, keys: $keys) { columns }
}
"""


async def org_records(client: NodeClient, kind: OrgRecordKind, keys: Sequence[str]) -> list[Any]:
    """The node's orgs or departments of ``kind`` for these keys (one call for the
    batch), each a transient instance of its mapped class."""
    data = await client.query(_ORG_RECORDS, {"of": kind.name, "keys": list(keys)})
    found = data.get("orgRecords")
    if not isinstance(found, list):
        raise NodeCallFailed(f"node {client.node_id}: orgRecords answered {found!r}")
    model = ORG_KINDS[kind].model
    return [decode_row(model, item["columns"]) for item in found]


async def orgs_by_code(client: NodeClient, codes: Sequence[str]) -> list[ServiceOrg]:
    """The node's rows of these orgs (one call for the batch)."""
    found = await client.entities("ServiceOrg", [{"code": c} for c in codes], ["columns"])
    return [decode_row(ServiceOrg, item["columns"]) for item in found if item is not None]


async def implementations_by_code(
    client: NodeClient, codes: Sequence[str]
) -> list[MatterImplementation]:
    """The node's implementation items of these codes (one call for the batch)."""
    found = await client.entities("MatterImplementation", [{"code": c} for c in codes], ["columns"])
    return [decode_row(MatterImplementation, item["columns"]) for item in found if item is not None]


async def cases_by_number(client: NodeClient, numbers: Sequence[str]) -> list[Case]:
    """The node's rows of these cases (one call for the batch)."""
    found = await client.entities("Case", [{"number": n} for n in numbers], ["columns"])
    return [decode_row(Case, item["columns"]) for item in found if item is not None]


async def divisions_by_code(client: NodeClient, codes: Sequence[str]) -> list[Division]:
    """The node's rows of these divisions (one call for the batch)."""
    found = await client.entities("Division", [{"code": c} for c in codes], ["columns"])
    return [decode_row(Division, item["columns"]) for item in found if item is not None]


_CHILDREN = """
query Children($parents: [String!]!) { children(parents: $parents) { columns } }
"""


async def children_of(client: NodeClient, parents: Sequence[str]) -> list[Division]:
    """The node's divisions directly below these (one call for the batch), in code
    order."""
    data = await client.query(_CHILDREN, {"parents": list(parents)})
    found = data.get("children")
    if not isinstance(found, list):
        raise NodeCallFailed(f"node {client.node_id}: children answered {found!r}")
    return [decode_row(Division, item["columns"]) for item in found]


async def matters_by_code(client: NodeClient, codes: Sequence[str]) -> list[Matter]:
    """The catalogue's rows of these matters (one call for the batch; only the node
    holding the city answers them)."""
    found = await client.entities("Matter", [{"basicCode": c} for c in codes], ["columns"])
    return [decode_row(Matter, item["columns"]) for item in found if item is not None]


async def delegations_by_id(client: NodeClient, ids: Sequence[str]) -> list[DelegationView]:
    """The node's delegations with these ids and the towns each names (one call for
    the batch)."""
    found = await client.entities("Delegation", [{"id": i} for i in ids], ["columns", "towns"])
    return [
        DelegationView(decode_row(Delegation, item["columns"]), tuple(item["towns"]))
        for item in found
        if item is not None
    ]


@dataclass(frozen=True)
class CasesPage:
    rows: list[Case]
    has_next: bool


def _filter(conditions: CaseConditions | None) -> dict[str, Any] | None:
    return conditions.encode() if conditions is not None and conditions.given else None


async def cases_under(
    client: NodeClient,
    under: str,
    *,
    after: str | None,
    first: int,
    conditions: CaseConditions | None = None,
) -> CasesPage:
    """A page of the node's cases received at or under ``under`` that meet
    ``conditions`` (when any is set), in number order, after the case number
    ``after``."""
    variables = {
        "under": under,
        "first": first,
        "after": None if after is None else case_cursor(after),
        "filter": _filter(conditions),
    }
    return _page(client, "cases", await client.query(_CASES, variables))


async def cases_of(
    client: NodeClient,
    subject: str,
    *,
    under: str | None,
    after: str | None,
    first: int,
    conditions: CaseConditions | None = None,
) -> CasesPage:
    """A page of the node's cases of the account ``subject`` (applicant or submitter),
    received at or under ``under`` when given, that meet ``conditions`` (when any is
    set), in number order, after the case number ``after``."""
    variables = {
        "subject": subject,
        "under": under,
        "first": first,
        "after": None if after is None else case_cursor(after),
        "filter": _filter(conditions),
    }
    return _page(client, "casesOf", await client.query(_CASES_OF, variables))


def _page(client: NodeClient, name: str, data: dict[str, Any]) -> CasesPage:
    page = data.get(name)
    if not isinstance(page, dict):
        raise NodeCallFailed(f"node {client.node_id}: {name} answered {page!r}")
    rows = [decode_row(Case, row) for row in page["rows"]]
    return CasesPage(rows, bool(page["pageInfo"]["hasNextPage"]))


def step_outcome(answer: Mapping[str, Any]) -> StepOutcome:
    """A node's answer to ``takeCaseStep`` as the outcome of the step: the case as it
    stands, whether a timer moved it, the refusal with its code and field."""
    columns = answer.get("columns")
    case = decode_row(Case, columns) if isinstance(columns, Mapping) else None
    return StepOutcome(case, bool(answer.get("moved")), _refusal(answer))


def _refusal(answer: Mapping[str, Any]) -> DomainError | None:
    """The refusal a node answered (``error``: code, field, message, detail), typed."""
    refused = answer.get("error")
    if not isinstance(refused, Mapping):
        return None
    field = refused.get("field")
    return DomainError(
        code_of(str(refused.get("code")), str(refused.get("message") or "")),
        field=[str(f) for f in field] if isinstance(field, list) else None,
        detail=refused.get("detail"),
    )


def ticket_outcome(answer: Mapping[str, Any]) -> TicketOutcome:
    """A node's answer to ``issueTicket`` or ``callNextTicket``: the ticket as it
    stands (a transient ``QueueTicket``), or the refusal with its code and field."""
    columns = answer.get("columns")
    ticket = decode_row(QueueTicket, columns) if isinstance(columns, Mapping) else None
    return TicketOutcome(ticket, _refusal(answer))


# the rows a node's hall mutations answer, by name
HALL_ROWS: dict[str, type[Any]] = {
    "window": Window,
    "slots": AppointmentSlot,
    "appointment": Appointment,
    "slot": AppointmentSlot,
    "ticket": QueueTicket,
}


def hall_outcome(answer: Mapping[str, Any]) -> Outcome[dict[str, Any]]:
    """A node's answer to ``changeWindow`` or ``takeAppointmentStep``: the rows it left
    by name (each a transient instance of its class; a list for ``slots``), or the
    refusal with its code and field."""
    columns = answer.get("columns")
    if not isinstance(columns, Mapping):
        return Outcome(None, _refusal(answer))
    rows: dict[str, Any] = {}
    for name, value in columns.items():
        model = HALL_ROWS[name]
        if isinstance(value, list):
            rows[name] = [decode_row(model, v) for v in value]
        else:
            rows[name] = None if value is None else decode_row(model, value)
    return Outcome(rows, _refusal(answer))


_HALL_BOARDS = """
query HallBoards($orgCodes: [String!]!, $day: Date!) {
  hallBoards(orgCodes: $orgCodes, day: $day) { orgCode columns }
}
"""


_MATTERS = """
query Matters(
  $keyword: String, $type: MatterType, $status: MatterStatus, $basicCodes: [String!],
  $first: Int!, $after: String
) {
  matters(
    keyword: $keyword, type: $type, status: $status, basicCodes: $basicCodes,
    first: $first, after: $after
  ) {
    items { columns }
    pageInfo { hasNextPage }
  }
}
"""


async def hall_boards(client: NodeClient, org_codes: Sequence[str], day: dt.date) -> list[Board]:
    """The node's hall boards of these orgs on ``day`` (one call for the batch)."""
    data = await client.query(_HALL_BOARDS, {"orgCodes": list(org_codes), "day": day.isoformat()})
    found = data.get("hallBoards")
    if not isinstance(found, list):
        raise NodeCallFailed(f"node {client.node_id}: hallBoards answered {found!r}")
    return [decode_board(item["orgCode"], day, item["columns"]) for item in found]


@dataclass(frozen=True)
class MattersPage:
    rows: list[Matter]
    has_next: bool


async def matters(
    client: NodeClient,
    *,
    keyword: str | None,
    type: MatterType | None,
    status: MatterStatus | None,
    basic_codes: Collection[str] | None,
    after: str | None,
    first: int,
) -> MattersPage:
    """A page of the catalogue's matters at the node keeping it, by basic code, after
    the basic code ``after``."""
    variables = {
        "keyword": keyword,
        "type": None if type is None else type.name,
        "status": None if status is None else status.name,
        "basicCodes": None if basic_codes is None else sorted(basic_codes),
        "first": first,
        "after": None if after is None else encode_cursor("matter", after),
    }
    page = (await client.query(_MATTERS, variables)).get("matters")
    if not isinstance(page, dict):
        raise NodeCallFailed(f"node {client.node_id}: matters answered {page!r}")
    rows = [decode_row(Matter, item["columns"]) for item in page["items"]]
    return MattersPage(rows, bool(page["pageInfo"]["hasNextPage"]))


_IMPLEMENTED = """
query Implemented($under: String, $onlineLevel: OnlineLevel, $maxVisits: Int) {
  implementedMatters(under: $under, onlineLevel: $onlineLevel, maxVisits: $maxVisits)
}
"""


async def implemented_matters(
    client: NodeClient,
    *,
    under: str | None,
    online_level: OnlineLevel | None,
    max_visits: int | None,
) -> set[str]:
    """The basic codes of the node's published items at or under ``under``."""
    variables = {
        "under": under,
        "onlineLevel": None if online_level is None else online_level.name,
        "maxVisits": max_visits,
    }
    found = (await client.query(_IMPLEMENTED, variables)).get("implementedMatters")
    if not isinstance(found, list):
        raise NodeCallFailed(f"node {client.node_id}: implementedMatters answered {found!r}")
    return {str(code) for code in found}


_MATTERS_NAMED = """
query MattersNamed($keyword: String!) { mattersNamed(keyword: $keyword) }
"""


async def matters_named(client: NodeClient, keyword: str) -> set[str]:
    """The basic codes of the catalogue's matters whose name holds ``keyword``."""
    found = (await client.query(_MATTERS_NAMED, {"keyword": keyword})).get("mattersNamed")
    if not isinstance(found, list):
        raise NodeCallFailed(f"node {client.node_id}: mattersNamed answered {found!r}")
    return {str(code) for code in found}


_ITEMS_WHERE = """
query ItemsWhere($filter: JSON!, $first: Int!, $after: String) {
  itemsWhere(filter: $filter, first: $first, after: $after) {
    items { columns }
    pageInfo { hasNextPage }
  }
}
"""


@dataclass(frozen=True)
class ItemsPage:
    rows: list[MatterImplementation]
    has_next: bool


async def items_where(
    client: NodeClient,
    conditions: ItemConditions,
    *,
    after: tuple[str, str] | None,
    first: int,
) -> ItemsPage:
    """A page of the node's implementation items meeting ``conditions``, by division
    code then basic code, after the position ``after``."""
    variables = {
        "filter": conditions.encode(),
        "first": first,
        "after": None if after is None else encode_cursor("item", *after),
    }
    page = (await client.query(_ITEMS_WHERE, variables)).get("itemsWhere")
    if not isinstance(page, dict):
        raise NodeCallFailed(f"node {client.node_id}: itemsWhere answered {page!r}")
    rows = [decode_row(MatterImplementation, item["columns"]) for item in page["items"]]
    return ItemsPage(rows, bool(page["pageInfo"]["hasNextPage"]))


def refusal(answer: Mapping[str, Any]) -> DomainError | None:
    """The refusal a node's write answered, typed (as ``step_outcome`` reads it)."""
    return _refusal(answer)
