"""The hub's client call of the node mutation that receives an agent's submission for a
resident (代办: ``receiveForResident``, ``schema/node/proxy_mutation.py``) at the node
holding the village, through ``NodeClient`` as ``resolvers/nodewrites.py``'s writes: one
GraphQL call, the node's answer (the case as received, or the refusal) made the
mutation's payload, as the SQL path's would have been. Not retried: a node that does not
answer in time may have received the case; it is ``NODE_UNAVAILABLE`` naming the
node."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from levels.cases.intake import Submission
from levels.node.intake import encode_submission
from levels.node.proxy import ProxyReceipt, encode_receipt
from levels.node.steps import encode_actor
from resolvers import library_reads
from resolvers.cases import actor_of
from resolvers.nodeclient import NodeClient
from resolvers.nodewrites import _outcome
from resolvers.registry import Node
from resolvers.submission import received_at_node
from schema.cases import CasePayload
from schema.info import Info

_RECEIVE_FOR_RESIDENT = """
mutation ReceiveForResident(
  $submission: JSON!, $receipt: JSON!, $actor: ActorInput!, $now: DateTime!,
  $item: JSON, $applicantLanguage: String, $library: JSON
) {
  receiveForResident(
    submission: $submission, receipt: $receipt, actor: $actor, now: $now,
    item: $item, applicantLanguage: $applicantLanguage, library: $library
  ) { columns error { code field message detail } }
}
"""


async def receive_for_resident(
    client: NodeClient,
    submission: Mapping[str, Any],
    receipt: Mapping[str, Any],
    *,
    actor: Mapping[str, Any],
    now: dt.datetime,
    item: Mapping[str, Any] | None = None,
    applicant_language: str | None = None,
    library: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Have the node holding the village receive an agent's submission
    (``receiveForResident``, with the resident's licences read in the city's
    ``library``): the case's ``columns`` (None: refused, nothing written) and the
    refusal ``error``."""
    return await _outcome(
        client,
        "receiveForResident",
        _RECEIVE_FOR_RESIDENT,
        actor,
        now,
        {
            "submission": dict(submission),
            "receipt": dict(receipt),
            "item": None if item is None else dict(item),
            "applicantLanguage": applicant_language,
            "library": None if library is None else dict(library),
        },
    )


async def receive_at_node(
    info: Info,
    node: Node,
    submission: Submission,
    receipt: ProxyReceipt,
    *,
    language: str | None,
    item: Mapping[str, Any] | None,
) -> CasePayload:
    """代办 asked of ``node`` (it holds the village, and has an address): the
    authorization's resident read there (``PROXY_AUTHORIZATIONS``) and their licences
    in the city's library (``resolvers/library_reads.py``) sent with it; its answer is
    the payload, ``caseUpdated`` published for a case received. A node that does not
    answer (this one, or the city's for the library) raises ``NodeUnavailable`` naming
    it, and nothing is written."""
    ctx = info.context
    client = node.client
    assert client is not None
    held = await library_reads.resident_library(info, node, receipt, submission)
    sent, asked = encode_submission(submission), encode_receipt(receipt)
    actor, now = encode_actor(actor_of(info)), ctx.clock.now()

    async def call() -> dict[str, Any]:
        return await receive_for_resident(
            client,
            sent,
            asked,
            actor=actor,
            now=now,
            item=item,
            applicant_language=language,
            library=held,
        )

    return await received_at_node(info, node, call)
