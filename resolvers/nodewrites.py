"""The hub's client calls of the node mutations that write a licence, a delegation, the
catalogue, a window's setup, an appointment, a case received below the deciding org or
a rating (``schema/node/licence_mutation.py``, ``schema/node/delegation_mutation.py``,
``schema/node/window_mutation.py``, ``schema/node/intake_mutation.py``,
``schema/node/rating_mutation.py``),
each through ``NodeClient`` (``resolvers/nodeclient.py``, kept under its size by holding
these here): one GraphQL call, the node's answer (the rows as they then stand and the
refusal) or its typed error raised. None is retried: a node that does not answer in
time may have made the change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from resolvers.nodeclient import _TICKET, NodeClient, _acting


async def _outcome(
    client: NodeClient,
    name: str,
    document: str,
    actor: Mapping[str, Any],
    now: dt.datetime,
    variables: Mapping[str, Any],
) -> dict[str, Any]:
    """Mutation ``name`` asked once of the node, by ``actor`` at ``now``: its answer."""
    found: dict[str, Any] = await client._outcome_call(
        name, document, {**variables, **_acting(actor, now)}
    )
    return found


_CHANGE_LICENCE = """
mutation ChangeLicence(
  $id: String!, $action: String!, $actor: ActorInput!, $now: DateTime!,
  $reason: String, $fields: JSON, $validUntil: Date
) {
  changeLicence(
    id: $id, action: $action, actor: $actor, now: $now,
    reason: $reason, fields: $fields, validUntil: $validUntil
  ) { columns error { code field message detail } }
}
"""


async def change_licence(
    client: NodeClient,
    identifier: str,
    action: str,
    *,
    actor: Mapping[str, Any],
    now: dt.datetime,
    reason: str | None = None,
    fields: Mapping[str, str] | None = None,
    valid_until: dt.date | None = None,
) -> dict[str, Any]:
    """Have the node that issued licence ``identifier`` change it (``changeLicence``:
    SUSPEND_LICENCE, REINSTATE_LICENCE, REVOKE_LICENCE, REISSUE_LICENCE): its
    ``columns`` as it then stands (None: refused, nothing written) and the refusal
    ``error`` (both: its expiry kept, the change refused). Not retried: a node that
    does not answer may have made it."""
    return await _outcome(
        client,
        "changeLicence",
        _CHANGE_LICENCE,
        actor,
        now,
        {
            "id": identifier,
            "action": action,
            "reason": reason,
            "fields": None if fields is None else dict(fields),
            "validUntil": None if valid_until is None else valid_until.isoformat(),
        },
    )


_DELEGATION = "{ columns towns error { code field message detail } }"

_DELEGATE_MATTER = (
    """
mutation DelegateMatter(
  $divisionCode: String!, $implementationCode: String!, $legalInstrument: String!,
  $effectiveFrom: Date!, $actor: ActorInput!, $now: DateTime!, $towns: [String!],
  $townDepartment: String, $townsOfCounty: [String!], $lacking: [String!]
) {
  delegateMatter(
    divisionCode: $divisionCode, implementationCode: $implementationCode,
    legalInstrument: $legalInstrument, effectiveFrom: $effectiveFrom, actor: $actor,
    now: $now, towns: $towns, townDepartment: $townDepartment,
    townsOfCounty: $townsOfCounty, lacking: $lacking
  ) """
    + _DELEGATION
    + "\n}"
)

_REVOKE_DELEGATION = (
    """
mutation RevokeDelegation(
  $id: String!, $reason: String!, $actor: ActorInput!, $now: DateTime!,
  $townsOfCounty: [String!]
) {
  revokeDelegation(
    id: $id, reason: $reason, actor: $actor, now: $now, townsOfCounty: $townsOfCounty
  ) """
    + _DELEGATION
    + "\n}"
)


async def delegate_matter(
    client: NodeClient,
    division_code: str,
    implementation_code: str,
    *,
    legal_instrument: str,
    effective_from: dt.date,
    actor: Mapping[str, Any],
    now: dt.datetime,
    towns: Sequence[str] | None = None,
    town_department: str | None = None,
    towns_of_county: Sequence[str] | None = None,
    lacking: Sequence[str] = (),
) -> dict[str, Any]:
    """Have the node owning county ``division_code`` delegate its item
    ``implementation_code`` to towns (``delegateMatter``): the delegation's ``columns``
    and ``towns`` (None: refused, nothing written) and the refusal ``error``. Not
    retried: a node that does not answer may have written it."""
    return await _outcome(
        client,
        "delegateMatter",
        _DELEGATE_MATTER,
        actor,
        now,
        {
            "divisionCode": division_code,
            "implementationCode": implementation_code,
            "legalInstrument": legal_instrument,
            "effectiveFrom": effective_from.isoformat(),
            "towns": None if towns is None else list(towns),
            "townDepartment": town_department,
            "townsOfCounty": None if towns_of_county is None else list(towns_of_county),
            "lacking": list(lacking),
        },
    )


async def revoke_delegation(
    client: NodeClient,
    delegation_id: str,
    reason: str,
    *,
    actor: Mapping[str, Any],
    now: dt.datetime,
    towns_of_county: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Have the node owning the delegation's county withdraw it (``revokeDelegation``):
    as ``delegate_matter``."""
    return await _outcome(
        client,
        "revokeDelegation",
        _REVOKE_DELEGATION,
        actor,
        now,
        {
            "id": delegation_id,
            "reason": reason,
            "townsOfCounty": None if towns_of_county is None else list(towns_of_county),
        },
    )


_PUBLISH_CATALOGUE = """
mutation PublishCatalogue(
  $city: String!, $urgent: Boolean!, $actor: ActorInput!, $now: DateTime!, $reason: String
) {
  publishCatalogue(city: $city, urgent: $urgent, actor: $actor, now: $now, reason: $reason) {
    columns error { code field message detail }
  }
}
"""


async def publish_catalogue(
    client: NodeClient,
    city: str,
    *,
    urgent: bool,
    actor: Mapping[str, Any],
    now: dt.datetime,
    reason: str | None = None,
) -> dict[str, Any]:
    """Have the node keeping the catalogue of ``city`` publish it (``publishCatalogue``):
    the publication's ``columns`` (None: refused, nothing written) and the refusal
    ``error``."""
    return await _outcome(
        client,
        "publishCatalogue",
        _PUBLISH_CATALOGUE,
        actor,
        now,
        {"city": city, "urgent": urgent, "reason": reason},
    )


_CHANGE_WINDOW = (
    """
mutation ChangeWindow(
  $windowId: String!, $change: String!, $actor: ActorInput!, $now: DateTime!, $input: JSON
) {
  changeWindow(windowId: $windowId, change: $change, actor: $actor, now: $now, input: $input) """
    + _TICKET
    + "\n}"
)

_TAKE_APPOINTMENT_STEP = (
    """
mutation TakeAppointmentStep(
  $key: String!, $step: String!, $actor: ActorInput!, $now: DateTime!,
  $basicCode: String, $channel: String
) {
  takeAppointmentStep(
    key: $key, step: $step, actor: $actor, now: $now, basicCode: $basicCode, channel: $channel
  ) """
    + _TICKET
    + "\n}"
)


async def change_window(
    client: NodeClient,
    window_id: str,
    change: str,
    *,
    actor: Mapping[str, Any],
    now: dt.datetime,
    given: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Have the node change window ``window_id`` (``changeWindow``: SET_POSTS,
    OPEN_POST, LEAVE_POST, SET_HOURS, SET_SERVICES, OPEN_SLOTS, with ``given`` as its
    ``input``): the rows' ``columns`` by name (None: refused, nothing written) and the
    refusal ``error``. Not retried: a node that does not answer may have made it."""
    return await _outcome(
        client,
        "changeWindow",
        _CHANGE_WINDOW,
        actor,
        now,
        {"windowId": window_id, "change": change, "input": None if given is None else dict(given)},
    )


async def take_appointment_step(
    client: NodeClient,
    key: str,
    step: str,
    *,
    actor: Mapping[str, Any],
    now: dt.datetime,
    basic_code: str | None = None,
    channel: str | None = None,
) -> dict[str, Any]:
    """Have the node book a seat of slot ``key`` (``BOOK``), or cancel or check in
    appointment ``key`` (``CANCEL``, ``CHECK_IN``) (``takeAppointmentStep``): as
    ``change_window``."""
    return await _outcome(
        client,
        "takeAppointmentStep",
        _TAKE_APPOINTMENT_STEP,
        actor,
        now,
        {"key": key, "step": step, "basicCode": basic_code, "channel": channel},
    )


_RECEIVE_CASE = (
    "mutation ReceiveCase($submission: JSON!, $actor: ActorInput!, $now: DateTime!, "
    "$item: JSON, $applicantLanguage: String, $library: JSON) { receiveCase(submission: "
    "$submission, actor: $actor, now: $now, item: $item, applicantLanguage: "
    "$applicantLanguage, library: $library) " + _TICKET + " }"
)
_RATE_CASE = (
    "mutation RateCase($number: String!, $rating: String!, $actor: ActorInput!, "
    "$now: DateTime!, $rectificationDays: Int!, $comment: String) { rateCase(number: $number, "
    "rating: $rating, actor: $actor, now: $now, rectificationDays: $rectificationDays, "
    "comment: $comment) { columns rectification error { code field message detail } } }"
)

_WRITES = {"receiveCase": _RECEIVE_CASE, "rateCase": _RATE_CASE}


async def write(
    client: NodeClient, name: str, *, actor: Mapping[str, Any], now: dt.datetime, **arguments: Any
) -> dict[str, Any]:
    """Have the node make write ``name`` of ``_WRITES`` with ``arguments`` (by their
    GraphQL names): ``receiveCase`` — a case received below the deciding org, with the
    implementing ``item`` and its guide when another node keeps them and the applicant's
    licences (``library``) — or ``rateCase``
    (its ``rectification`` beside). The answer's ``columns`` (None: refused, nothing
    written) and ``error``. Not retried: a node that does not answer may have made it."""
    return await _outcome(client, name, _WRITES[name], actor, now, arguments)
