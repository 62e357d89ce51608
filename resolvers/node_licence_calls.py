"""The hub's client calls of the licence library at the node that keeps it (the node
holding the city, ``schema/node/licence_library.py``) and of the licence keys every
node keeps: the library's list by the hub's conditions (``licenceLibrary``), the
orgs whose key signs its copies (``libraryOrgs``), a holder's copy (``copyLicence``),
the public keys verification checks tokens against (``licenceKeys``) and the issuers'
signed status lists (``statusLists``, ``schema/node/status_lists.py``). Each answer
made into what the SQL path reads (transient ``ELicence`` and ``LicenceKey`` rows); a
node's typed refusal raised as its ``DomainError``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from levels.common.errors import DomainError
from levels.common.rowcodec import decode_row
from levels.licences.models import ELicence, LicenceKey
from levels.node.cursors import encode_cursor
from levels.node.licence_library import LicenceConditions
from resolvers import remote
from resolvers.nodeclient import NodeCallFailed, NodeClient, named_answer

_LIBRARY = """
query LicenceLibrary($filter: JSON!, $first: Int!, $after: String) {
  licenceLibrary(filter: $filter, first: $first, after: $after) {
    items { columns }
    pageInfo { hasNextPage }
  }
}
"""


@dataclass(frozen=True)
class LibraryPage:
    rows: list[ELicence]
    has_next: bool


async def library_page(
    client: NodeClient,
    conditions: LicenceConditions,
    *,
    after: tuple[str, str] | None,
    first: int,
) -> LibraryPage:
    """A page of the library's licences meeting ``conditions``, in the order issued,
    after the position ``after`` (the instant issued, in ISO 8601 UTC, and the id)."""
    variables = {
        "filter": conditions.encode(),
        "first": first,
        "after": None if after is None else encode_cursor("licence", *after),
    }
    page = named_answer(client, await client.query(_LIBRARY, variables), "licenceLibrary", dict)
    rows = [decode_row(ELicence, item["columns"]) for item in page["items"]]
    return LibraryPage(rows, bool(page["pageInfo"]["hasNextPage"]))


_LIBRARY_ORGS = "query LibraryOrgs { libraryOrgs }"


async def library_orgs(client: NodeClient) -> tuple[str, ...]:
    """The city's service orgs, the first of which signs the library's copies."""
    found = named_answer(client, await client.query(_LIBRARY_ORGS), "libraryOrgs", list)
    return tuple(str(code) for code in found)


_LICENCE_KEYS = "query LicenceKeys { licenceKeys }"


async def licence_keys(client: NodeClient) -> list[LicenceKey]:
    """The public keys of the orgs signing at the node (retired ones too)."""
    found = named_answer(client, await client.query(_LICENCE_KEYS), "licenceKeys", list)
    return [
        LicenceKey(kid=k["kid"], org_code=k["orgCode"], public_jwk=k["publicJwk"]) for k in found
    ]


_STATUS_LISTS = """
query StatusLists($now: DateTime!, $ttlSeconds: Int!, $orgCodes: [String!]) {
  statusLists(now: $now, ttlSeconds: $ttlSeconds, orgCodes: $orgCodes) { orgCode token }
}
"""


async def status_lists(
    client: NodeClient,
    *,
    now: dt.datetime,
    ttl_seconds: int,
    org_codes: list[str] | None = None,
) -> dict[str, str]:
    """The signed status lists of the issuers the node keeps (only those of
    ``org_codes`` when given), signed there as of ``now``: org code → token."""
    variables = {"now": now.isoformat(), "ttlSeconds": ttl_seconds, "orgCodes": org_codes}
    found = named_answer(client, await client.query(_STATUS_LISTS, variables), "statusLists", list)
    return {str(item["orgCode"]): str(item["token"]) for item in found}


_COPY = """
mutation CopyLicence(
  $id: String!, $purpose: String!, $expiresAt: DateTime!, $usedBy: String!, $now: DateTime!
) {
  copyLicence(id: $id, purpose: $purpose, expiresAt: $expiresAt, usedBy: $usedBy, now: $now) {
    token columns error { code field message detail }
  }
}
"""


async def copy_licence(
    client: NodeClient,
    identifier: str,
    *,
    purpose: str,
    expires_at: dt.datetime,
    used_by: str,
    now: dt.datetime,
) -> tuple[str, ELicence]:
    """Have the library's node sign a copy of licence ``identifier`` and record its
    use: the copy's token and the licence; its refusal raised. Not retried: a node that
    does not answer may have made it."""
    variables = {
        "id": identifier,
        "purpose": purpose,
        "expiresAt": expires_at.isoformat(),
        "usedBy": used_by,
        "now": now.isoformat(),
    }
    answer = await client._outcome_call("copyLicence", _COPY, variables)
    refused: DomainError | None = remote.refusal(answer)
    if refused is not None:
        raise refused
    token, columns = answer.get("token"), answer.get("columns")
    if not isinstance(token, str) or not isinstance(columns, Mapping):
        raise NodeCallFailed(f"node {client.node_id}: copyLicence answered {answer!r}")
    return token, decode_row(ELicence, columns)
