"""Resolvers of cross-level messages: staff and auditors see those of their jurisdiction
across every store's outbox; an admin or supervisor sends a FAILED one again."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Sequence

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.errors import AuthErrorCode
from auth.policy import Action, allows, jurisdiction_prefix, require
from levels.cases.numbers import parse_case_number
from levels.common.enums import LEVELS
from levels.common.errors import DomainError
from levels.common.ranges import within
from levels.outbox import service as outbox_service
from levels.outbox.errors import MessageErrorCode
from levels.outbox.models import OutboxMessage
from resolvers.fanout import fan_out, node_ids
from resolvers.pagination import decode_cursor, merge_page, page_size
from resolvers.partial import report_unavailable
from resolvers.registry import Node
from schema.info import Info
from schema.outbox import (
    OutboxMessageFilter,
    OutboxMessageType,
    RetryMessageInput,
    RetryMessagePayload,
    message_target,
)
from schema.payloads import user_errors
from schema.relay import Connection, connection

_MESSAGE_ID = re.compile(r"[0-9a-f]{32}")


def _readable_prefix(info: Info) -> str:
    """The division-code prefix of the messages the viewer may see; refuses everyone
    the policy table does not let read messages."""
    viewer = info.context.viewer
    if not allows(viewer, Action.READ, message_target(viewer.jurisdiction)):
        code = AuthErrorCode.FORBIDDEN if viewer.authenticated else AuthErrorCode.UNAUTHENTICATED
        raise DomainError(code)
    return jurisdiction_prefix(viewer) or ""


def _key(row: OutboxMessage) -> tuple[str, str]:
    """Oldest first, across the stores: creation time (UTC, fixed width) then id."""
    return row.created_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), row.id


async def outbox_messages(
    info: Info, filter: OutboxMessageFilter | None, first: int | None, after: str | None
) -> Connection[OutboxMessageType]:
    ctx = info.context
    f = filter or OutboxMessageFilter()
    prefix = _readable_prefix(info)
    settings = ctx.settings
    size = page_size(first, default=settings.default_page_size, maximum=settings.max_page_size)
    start = decode_cursor(after, allowed=node_ids(ctx.sessions, LEVELS))
    stmt = select(OutboxMessage).where(within(OutboxMessage.division_code, prefix))
    if f.state is not None:
        stmt = stmt.where(OutboxMessage.state == f.state)
    if f.case_number is not None:
        number = parse_case_number(f.case_number, field="caseNumber").value
        stmt = stmt.where(OutboxMessage.case_number == number)
    if f.level is not None:
        stmt = stmt.where(
            or_(OutboxMessage.source_level == f.level, OutboxMessage.target_level == f.level)
        )

    async def fetch(node: Node, session: AsyncSession) -> Sequence[OutboxMessage]:
        page = stmt.order_by(OutboxMessage.created_at, OutboxMessage.id)
        position = start.get(node.id)
        if position is not None:
            stamp, last_id = position
            at = dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
            page = page.where(
                or_(
                    OutboxMessage.created_at > at,
                    and_(OutboxMessage.created_at == at, OutboxMessage.id > last_id),
                )
            )
        return (await session.scalars(page.limit(size + 1))).all()

    result = await fan_out(ctx.sessions, LEVELS, fetch, timeout=settings.node_timeout_seconds)
    report_unavailable(info, result.unavailable)
    merged = merge_page(dict(result.values), _key, first=size, start=start)
    return connection(merged, OutboxMessageType.from_row)


async def _locate(info: Info, message_id: str) -> tuple[Node, OutboxMessage] | None:
    """The store whose outbox holds the message, and the message; None when no store
    has it (NodeUnavailable when one that did not answer might)."""
    ctx = info.context

    async def fetch(_node: Node, session: AsyncSession) -> OutboxMessage | None:
        return await session.get(OutboxMessage, message_id)

    result = await fan_out(ctx.sessions, LEVELS, fetch, timeout=ctx.settings.node_timeout_seconds)
    # keyed by node id: every node holding a level is asked (a per-county map has
    # several at the county level), and the one that has it answers
    for node_id, row in result.values.items():
        if row is not None:
            return ctx.nodes[node_id], row
    if result.unavailable:
        raise result.unavailable[0]
    return None


async def retry_message(info: Info, input: RetryMessageInput) -> RetryMessagePayload:
    ctx = info.context
    viewer = ctx.viewer
    message_id = str(input.id).strip().lower()
    try:
        found = await _locate(info, message_id) if _MESSAGE_ID.fullmatch(message_id) else None
        # a message the viewer may not see is, to them, no message at all
        if found is None or not allows(viewer, Action.READ, message_target(found[1].division_code)):
            raise DomainError(MessageErrorCode.MESSAGE_NOT_FOUND, field=["input", "id"])
        node, row = found
        require(viewer, Action.RETRY_MESSAGE, message_target(row.division_code))
        operator = outbox_service.Operator(
            id=viewer.subject,
            kind=viewer.kind.value if viewer.kind else "ANONYMOUS",
            role=",".join(sorted(r.value for r in viewer.roles)) or None,
            channel=viewer.channel.value if viewer.channel else None,
            org_code=viewer.org_code,
            request_id=ctx.request.headers.get("x-request-id") or uuid.uuid4().hex,
        )
        async with node.sessions.begin() as session:
            message = await outbox_service.retry(
                session, message_id, now=ctx.clock.now(), by=operator
            )
    except DomainError as error:
        if isinstance(error.code, AuthErrorCode):
            raise
        return RetryMessagePayload(message=None, errors=user_errors(error, ctx.locale))
    return RetryMessagePayload(message=OutboxMessageType.from_row(message), errors=[])
