"""A keyed mutation's record on the hub's write calls to a node (``NodeClient``).

While the record of a keyed mutation is still to be written (``Pending.open``), a write
call — a mutation other than the read audit and the inbox's — to a node whose store is
the hub's store of that node (one served in the hub's process) carries it
(``Govhub-Idempotency``, ``levels/idempotency/records.py``). The node writes it with
its effect, in its own transaction, and says so (``Govhub-Idempotency-Effect``: the
effect's reference), and the hub saves the response there as for its own writes; a key
the node holds already is refused IDEMPOTENCY_IN_PROGRESS, and the hub answers as the
request that wrote it (``gateway/idempotency.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from levels.idempotency import records
from levels.idempotency.errors import IdempotencyErrorCode
from levels.idempotency.records import Pending

_TWIN = IdempotencyErrorCode.IDEMPOTENCY_IN_PROGRESS.value
# the node's mutations that are no keyed mutation's effect: the inbox and the read audit
_UNKEYED = ("mutation Deliver(", "mutation RecordCaseReads(")


def carried(shares_store: bool, document: str) -> Pending | None:
    """The record a call of ``document`` carries, if any."""
    if not shares_store:
        return None
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
