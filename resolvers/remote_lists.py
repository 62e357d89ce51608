"""More of the hub's reads through a node's API (``resolvers/remote.py`` holds the
first): a node's divisions of some levels, paged; its delegations; the catalogue's
published versions (at the node holding the city); its working-day calendar. Each
answer made into what the SQL path reads (transient instances of the mapped classes,
a ``WorkCalendar``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, TypeVar

from levels.calendar.workdays import WorkCalendar
from levels.city.models import CataloguePublication
from levels.common.enums import Level
from levels.common.models import Division
from levels.common.rowcodec import decode_row
from levels.county.models import Delegation
from levels.county.service import DelegationView
from levels.licences.models import LicenceType
from levels.node.cursors import encode_cursor
from levels.windows.models import Appointment, AppointmentSlot, QueueTicket
from resolvers.nodeclient import NodeClient, named_answer

_Row = TypeVar("_Row")

_DIVISIONS = """
query Divisions(
  $levels: [Level!]!, $parentCode: String, $within: String, $first: Int!, $after: String
) {
  divisions(levels: $levels, parentCode: $parentCode, within: $within, first: $first,
    after: $after) {
    items { columns }
    pageInfo { hasNextPage }
  }
}
"""


@dataclass(frozen=True)
class DivisionsPage:
    rows: list[Division]
    has_next: bool


async def _rows(
    client: NodeClient, model: type[_Row], document: str, name: str, variables: dict[str, Any]
) -> list[_Row]:
    """Query ``document``'s list ``name`` of the node, each item's ``columns`` a row of
    ``model``."""
    found = named_answer(client, await client.query(document, variables), name, list)
    return [decode_row(model, item["columns"]) for item in found]


async def divisions(
    client: NodeClient,
    levels: Sequence[Level],
    *,
    parent_code: str | None,
    within: str | None,
    after: str | None,
    first: int,
) -> DivisionsPage:
    """A page of the node's divisions of ``levels`` (the children of ``parent_code``,
    or those under ``within``), by code, after the code ``after``."""
    variables = {
        "levels": [lv.name for lv in levels],
        "parentCode": parent_code,
        "within": within,
        "first": first,
        "after": None if after is None else encode_cursor("division", after),
    }
    page = named_answer(client, await client.query(_DIVISIONS, variables), "divisions", dict)
    rows = [decode_row(Division, item["columns"]) for item in page["items"]]
    return DivisionsPage(rows, bool(page["pageInfo"]["hasNextPage"]))


_DELEGATIONS = """
query Delegations($countyPrefix: String, $toTown: String, $activeAt: DateTime) {
  delegations(countyPrefix: $countyPrefix, toTown: $toTown, activeAt: $activeAt) {
    columns towns
  }
}
"""


async def delegations(
    client: NodeClient,
    *,
    county_prefix: str | None,
    to_town: str | None,
    active_at: dt.datetime | None,
) -> list[DelegationView]:
    """The node's delegations (of the counties under ``county_prefix``, to ``to_town``,
    in force at ``active_at``, each when given), by id."""
    variables = {
        "countyPrefix": county_prefix,
        "toTown": to_town,
        "activeAt": None if active_at is None else active_at.isoformat(),
    }
    found = named_answer(client, await client.query(_DELEGATIONS, variables), "delegations", list)
    return [
        DelegationView(decode_row(Delegation, item["columns"]), tuple(item["towns"]))
        for item in found
    ]


_VERSIONS = """
query Versions($version: Int) { catalogueVersions(version: $version) { columns } }
"""


async def catalogue_versions(client: NodeClient, version: int | None) -> list[CataloguePublication]:
    """The catalogue's published versions, newest first (or ``version``), at the node
    holding the city."""
    return await _rows(
        client, CataloguePublication, _VERSIONS, "catalogueVersions", {"version": version}
    )


_CALENDAR = "query Calendar { workCalendar }"


async def work_calendar(client: NodeClient) -> WorkCalendar:
    """The node's working-day calendar (its override days and imported years)."""
    found = named_answer(client, await client.query(_CALENDAR, {}), "workCalendar", dict)
    days = [
        SimpleNamespace(
            day=dt.date.fromisoformat(d["day"]), is_working_day=d["isWorkingDay"], name=d["name"]
        )
        for d in found["days"]
    ]
    years = [SimpleNamespace(year=y["year"], source=y["source"]) for y in found["years"]]
    return WorkCalendar.from_rows(days, years)  # type: ignore[arg-type]


_SLOTS = """
query Slots($orgCode: String!, $day: Date!, $windowId: String) {
  appointmentSlots(orgCode: $orgCode, day: $day, windowId: $windowId) { columns }
}
"""


async def appointment_slots(
    client: NodeClient, org_code: str, day: dt.date, window_id: str | None
) -> list[AppointmentSlot]:
    """The node's appointment slots of an org on ``day`` (of one window when given)."""
    variables = {"orgCode": org_code, "day": day.isoformat(), "windowId": window_id}
    return await _rows(client, AppointmentSlot, _SLOTS, "appointmentSlots", variables)


_TICKETS_OF = """
query TicketsOf($holder: String!, $since: Date!, $limit: Int!) {
  ticketsOf(holder: $holder, since: $since, limit: $limit) { columns }
}
"""


async def tickets_of(
    client: NodeClient, holder: str, since: dt.date, limit: int
) -> list[QueueTicket]:
    """The node's tickets ``holder`` holds of ``since`` on, newest first."""
    variables = {"holder": holder, "since": since.isoformat(), "limit": limit}
    return await _rows(client, QueueTicket, _TICKETS_OF, "ticketsOf", variables)


_APPOINTMENTS_OF = """
query AppointmentsOf($person: String!, $since: Date!, $limit: Int!) {
  appointmentsOf(person: $person, since: $since, limit: $limit) { columns }
}
"""


async def appointments_of(
    client: NodeClient, person: str, since: dt.date, limit: int
) -> list[tuple[Appointment, AppointmentSlot]]:
    """The node's appointments ``person`` booked of ``since`` on, each with its slot."""
    variables = {"person": person, "since": since.isoformat(), "limit": limit}
    data = await client.query(_APPOINTMENTS_OF, variables)
    found = named_answer(client, data, "appointmentsOf", list)
    return [
        (
            decode_row(Appointment, item["columns"]["appointment"]),
            decode_row(AppointmentSlot, item["columns"]["slot"]),
        )
        for item in found
    ]


_LICENCE_TYPES = "query LicenceTypes { licenceTypes { columns } }"


async def licence_types(client: NodeClient) -> list[LicenceType]:
    """The licence library's types, at the node holding the city."""
    return await _rows(client, LicenceType, _LICENCE_TYPES, "licenceTypes", {})
