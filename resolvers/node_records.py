"""A keyed mutation's record on the hub's write calls to a node (``NodeClient``).

While the record of a keyed mutation is still to be written (``Pending.open``), a write
call — a mutation other than the read audit and the inbox's — carries it
(``Govhub-Idempotency``, ``levels/idempotency/records.py``). The node writes it with
its effect, in its own transaction, and says so (``Govhub-Idempotency-Effect``: the
effect's reference), and the hub saves the response there; a key the node holds
already is refused IDEMPOTENCY_IN_PROGRESS, and the hub answers as the request that
wrote it (``gateway/idempotency.py``).

The hub reads and completes the records of a node served in its process by SQL (its
store of the node is the node's); those of a node with an address through the node's
API (``schema/node/idempotency.py``): ``find``, ``save``, ``keep``."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping
from typing import Any, Protocol

import orjson

from levels.idempotency import records
from levels.idempotency.errors import IdempotencyErrorCode
from levels.idempotency.models import IdempotencyRecord
from levels.idempotency.records import Pending

_TWIN = IdempotencyErrorCode.IDEMPOTENCY_IN_PROGRESS.value
# the node's mutations that are no keyed mutation's effect: the inbox and the read audit
_UNKEYED = ("mutation Deliver(", "mutation RecordCaseReads(")


def carried(document: str) -> Pending | None:
    """The record a call of ``document`` carries, if any."""
    pending = records.pending_var.get()
    if pending is None or not pending.open:
        return None
    opening = document.lstrip()
    return pending if opening.startswith("mutation") and not opening.startswith(_UNKEYED) else None


def header(pending: Pending | None) -> dict[str, str]:
    """The call's header of the record it carries (none without one)."""
    return {} if pending is None else {records.HEADER: records.encode(pending)}


def answered(
    pending: Pending | None, node_id: str, headers: Mapping[str, str], errors: list[dict[str, Any]]
) -> None:
    """What the node did with the record the call carried: written with the effect, or
    refused for a twin request's record it holds."""
    if pending is None:
        return
    effect = headers.get(records.EFFECT_HEADER)
    if effect is not None:
        pending.committed_at(node_id, orjson.loads(effect))
    elif any((e.get("extensions") or {}).get("code") == _TWIN for e in errors):
        pending.twin = True


class Client(Protocol):
    shares_store: bool

    async def query(self, document: str, variables: Mapping[str, Any] | None = None) -> Any: ...


def through_api(client: Client | None) -> bool:
    """Whether the hub reads and completes a node's records through its API."""
    return client is not None and not client.shares_store


_KEY = "$client: String!, $operation: String!, $key: String!"
_KEYED = "client: $client, operation: $operation, key: $key"
_FIND = (
    f"query IdempotencyRecord({_KEY}, $now: DateTime!) {{ idempotencyRecord({_KEYED}, now: $now) }}"
)
_SAVE = (
    f"mutation SaveIdempotentResponse({_KEY}, $statusCode: Int!, $contentType: String!, "
    f"$response: String!) {{ saveIdempotentResponse({_KEYED}, statusCode: $statusCode, "
    "contentType: $contentType, response: $response) }"
)
_KEEP = "mutation KeepIdempotencyRecord($record: JSON!) { keepIdempotencyRecord(record: $record) }"


async def find(
    client: Client, owner: str, operation: str, key: str, now: dt.datetime
) -> IdempotencyRecord | None:
    """The live record of a key at the node."""
    variables = {"client": owner, "operation": operation, "key": key, "now": now.isoformat()}
    found = (await client.query(_FIND, variables)).get("idempotencyRecord")
    return None if found is None else records.of_json(found)


async def save(
    client: Client,
    owner: str,
    operation: str,
    key: str,
    *,
    status_code: int,
    content_type: str,
    body: bytes,
) -> bool:
    """Save the response to the record the node wrote with the effect."""
    variables = {
        "client": owner,
        "operation": operation,
        "key": key,
        "statusCode": status_code,
        "contentType": content_type,
        "response": base64.b64encode(body).decode(),
    }
    return bool((await client.query(_SAVE, variables)).get("saveIdempotentResponse"))


async def keep(client: Client, record: IdempotencyRecord) -> bool:
    """Keep a record without an effect at the node; False: the key is held there."""
    found = await client.query(_KEEP, {"record": records.to_json(record)})
    return bool(found.get("keepIdempotencyRecord"))
