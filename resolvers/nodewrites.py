"""The hub's client calls of the node mutations that write a licence, a delegation or
the catalogue (``schema/node/licence_mutation.py``, ``schema/node/delegation_mutation.py``),
each through ``NodeClient`` (``resolvers/nodeclient.py``, kept under its size by holding
these here): one GraphQL call, the node's answer (the rows as they then stand and the
refusal) or its typed error raised. None is retried: a node that does not answer in
time may have made the change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from resolvers.nodeclient import NodeClient, _acting

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
    variables = {
        "id": identifier,
        "action": action,
        **_acting(actor, now),
        "reason": reason,
        "fields": None if fields is None else dict(fields),
        "validUntil": None if valid_until is None else valid_until.isoformat(),
    }
    found: dict[str, Any] = await client._outcome_call("changeLicence", _CHANGE_LICENCE, variables)
    return found


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
    variables = {
        "divisionCode": division_code,
        "implementationCode": implementation_code,
        "legalInstrument": legal_instrument,
        "effectiveFrom": effective_from.isoformat(),
        **_acting(actor, now),
        "towns": None if towns is None else list(towns),
        "townDepartment": town_department,
        "townsOfCounty": None if towns_of_county is None else list(towns_of_county),
        "lacking": list(lacking),
    }
    found: dict[str, Any] = await client._outcome_call(
        "delegateMatter", _DELEGATE_MATTER, variables
    )
    return found


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
    variables = {
        "id": delegation_id,
        "reason": reason,
        **_acting(actor, now),
        "townsOfCounty": None if towns_of_county is None else list(towns_of_county),
    }
    found: dict[str, Any] = await client._outcome_call(
        "revokeDelegation", _REVOKE_DELEGATION, variables
    )
    return found


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
    variables = {"city": city, "urgent": urgent, **_acting(actor, now), "reason": reason}
    found: dict[str, Any] = await client._outcome_call(
        "publishCatalogue", _PUBLISH_CATALOGUE, variables
    )
    return found
