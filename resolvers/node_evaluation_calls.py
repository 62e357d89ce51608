"""The hub's client calls of the node mutations that follow a rating
(``schema/node/evaluation_mutation.py``): ``followUpRating`` — a rating's rectification,
its appeal, a complaint's handling and satisfaction — and ``fileComplaint``, each one
GraphQL call through ``NodeClient`` (``nodewrites._outcome``): the row as it then
stands (``columns``, None: refused, nothing written) and the refusal ``error``, or the
node's typed error raised. Not retried: a node that does not answer may have made the
change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from levels.common.enums import Level
from levels.evaluations.service import ComplaintDraft
from levels.node.evaluations import FollowUpInput, encode_draft
from resolvers.nodeclient import NodeClient
from resolvers.nodewrites import _outcome

_ANSWER = "{ columns error { code field message detail } }"

_FOLLOW_UP = (
    """
mutation FollowUpRating(
  $id: String!, $action: String!, $level: Level!, $actor: ActorInput!, $now: DateTime!,
  $text: String, $uphold: Boolean, $satisfaction: String
) {
  followUpRating(
    id: $id, action: $action, level: $level, actor: $actor, now: $now,
    text: $text, uphold: $uphold, satisfaction: $satisfaction
  ) """
    + _ANSWER
    + "\n}"
)

_FILE_COMPLAINT = (
    """
mutation FileComplaint(
  $complaint: JSON!, $level: Level!, $actor: ActorInput!, $now: DateTime!,
  $complaintDays: Int!
) {
  fileComplaint(
    complaint: $complaint, level: $level, actor: $actor, now: $now,
    complaintDays: $complaintDays
  ) """
    + _ANSWER
    + "\n}"
)


async def follow_up(
    client: NodeClient,
    public_id: str,
    action: str,
    given: FollowUpInput,
    *,
    level: Level,
    actor: Mapping[str, Any],
    now: dt.datetime,
) -> dict[str, Any]:
    """Have the node keeping the row ``public_id`` at ``level`` make follow-up
    ``action`` (RECORD_CALLBACK, COMPLETE_RECTIFICATION, APPEAL_RATING, DECIDE_APPEAL,
    HANDLE_COMPLAINT, RATE_COMPLAINT_HANDLING) with what it is ``given``."""
    felt = given.satisfaction
    return await _outcome(
        client,
        "followUpRating",
        _FOLLOW_UP,
        actor,
        now,
        {
            "id": public_id,
            "action": action,
            "level": level.value,
            "text": given.text,
            "uphold": given.uphold,
            "satisfaction": None if felt is None else felt.value,
        },
    )


async def file_complaint(
    client: NodeClient,
    draft: ComplaintDraft,
    *,
    level: Level,
    actor: Mapping[str, Any],
    now: dt.datetime,
    complaint_days: int,
) -> dict[str, Any]:
    """Have the node where the complaint is kept (its case's, window's or staff
    member's org's) file it at ``level``, due ``complaint_days`` working days on."""
    return await _outcome(
        client,
        "fileComplaint",
        _FILE_COMPLAINT,
        actor,
        now,
        {"complaint": encode_draft(draft), "level": level.value, "complaintDays": complaint_days},
    )
