"""Resolvers of the audit trail: auditors and supervisors read it within their
jurisdiction (the policy table), across the nodes a case passed through."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from auth.errors import AuthErrorCode
from auth.policy import Action, allows, jurisdiction_prefix
from levels.audit.chain import in_time_order, utc_stamp, verify_division
from levels.audit.links import check_links
from levels.audit.models import AuditEvent as AuditEventRow
from levels.cases.numbers import parse_case_number
from levels.common.codes import parse_division
from levels.common.dates import kept_instant
from levels.common.enums import LEVELS, Level
from levels.common.errors import DomainError, ErrorCode
from levels.common.ranges import within
from levels.node.timers import head_keys
from resolvers.fanout import fan_out, node_ids
from resolvers.pagination import decode_cursor, merge_page, page_size
from resolvers.partial import report_unavailable
from resolvers.registry import Node
from schema.audit import (
    AuditEvent,
    AuditFilter,
    AuditTrail,
    ChainStatus,
    HandoverLink,
    audit_target,
)
from schema.info import Info
from schema.relay import Connection, connection


def _require(info: Info, case_number: str | None) -> str:
    """The division-code prefix the viewer may audit; refuses everyone else."""
    viewer = info.context.viewer
    target = audit_target(case_number or viewer.jurisdiction)
    if not allows(viewer, Action.READ, target):
        code = AuthErrorCode.FORBIDDEN if viewer.authenticated else AuthErrorCode.UNAUTHENTICATED
        raise DomainError(code)
    return jurisdiction_prefix(viewer) or ""


async def audit_trail(info: Info, case_number: str) -> AuditTrail:
    """A case's trail at every node it passed through (each asked once, in parallel),
    oldest first; the chain of every division that holds its events verified (each
    segment from its genesis), and every hand-over link between them checked; a node
    that does not answer is reported (``extensions.unavailable``) and its part left
    out."""
    ctx = info.context
    parsed = parse_case_number(case_number, field="caseNumber")
    _require(info, parsed.value)
    received = parsed.division.level
    public_key = ctx.identity.keys.public_key

    async def fetch(node: Node, session: AsyncSession) -> Sequence[AuditEventRow]:
        return (
            await session.scalars(
                select(AuditEventRow)
                .where(AuditEventRow.case_number == parsed.value)
                .order_by(AuditEventRow.division_code, AuditEventRow.seq)
            )
        ).all()

    found = await fan_out(ctx.sessions, LEVELS, fetch, timeout=ctx.settings.node_timeout_seconds)
    report_unavailable(info, found.unavailable)
    # the receiving division's chain always (the case's number names it), and every
    # other division's that holds some of its events; the whole chain of each, verified
    # at the node that holds it
    nodes = {node.id: node for node in ctx.nodes}
    segments: set[tuple[str, Level, str]] = set()
    home = ctx.nodes.owner_or_none(parsed.value[:12], received)
    if home is not None and home.id in found.values:
        segments.add((home.id, received, parsed.value[:12]))
    for node_id, rows in found.values.items():
        segments.update((node_id, Level(r.level), r.division_code) for r in rows)
    answered = sorted(segments, key=lambda s: (-s[1].depth, s[2], s[0]))

    async def verify(node_id: str, level: Level, division: str) -> ChainStatus:
        async with nodes[node_id].sessions() as session:
            keys = head_keys(nodes[node_id].sessions, node_id, public_key)
            report = await verify_division(
                session=session, level=level.value, division=division, public_key_for=keys
            )
        return ChainStatus.of(level, report)

    chains = await asyncio.gather(*(verify(n, lv, d) for n, lv, d in answered))
    rows = in_time_order(r for rows in found.values.values() for r in rows)
    return AuditTrail(
        case_number=parsed.value,
        events=[AuditEvent.from_row(r) for r in rows],
        chains=list(chains),
        links=[HandoverLink.of(r) for r in check_links(rows)],
        received_level=received,
    )


def _time_key(row: AuditEventRow) -> tuple[str, str, str]:
    """A cursor position of ``auditEvents``: time (UTC, microseconds), then — at the
    same instant — the lower level first, then the division and its chain
    (``time_key``)."""
    place = f"{row.division_code}:{row.seq:012d}"
    return (utc_stamp(row.at), str(3 - Level(row.level).depth), place)


def _after(position: Any) -> Any:
    """Rows of one node after its cursor position (time, then division and seq)."""
    if not isinstance(position, tuple) or len(position) != 3:
        raise DomainError(ErrorCode.INVALID_CURSOR, field=["after"])
    try:
        at = dt.datetime.fromisoformat(position[0])
        division, _, seq_text = str(position[2]).partition(":")
        seq = int(seq_text)
    except ValueError:
        raise DomainError(ErrorCode.INVALID_CURSOR, field=["after"]) from None
    if at.tzinfo is None:
        raise DomainError(ErrorCode.INVALID_CURSOR, field=["after"])
    later = tuple_(AuditEventRow.division_code, AuditEventRow.seq) > tuple_(
        literal(division), literal(seq)
    )
    return (AuditEventRow.at > at) | ((AuditEventRow.at == at) & later)


async def audit_events(
    info: Info, filter: AuditFilter | None, first: int | None, after: str | None
) -> Connection[AuditEvent]:
    """Events the viewer may audit, across the level nodes, oldest first."""
    ctx = info.context
    f = filter or AuditFilter()
    prefix = _require(info, None)
    settings = ctx.settings
    size = page_size(first, default=settings.default_page_size, maximum=settings.max_page_size)
    levels = [f.level] if f.level else list(LEVELS)
    start = decode_cursor(after, allowed=node_ids(ctx.sessions, levels))
    positions = {level: _after(position) for level, position in start.items()}
    stmt = select(AuditEventRow).where(within(AuditEventRow.case_number, prefix))
    if f.division_code is not None:
        below = parse_division(f.division_code, field=("filter", "divisionCode")).prefix
        stmt = stmt.where(within(AuditEventRow.case_number, below))
    if f.case_number is not None:
        stmt = stmt.where(AuditEventRow.case_number == f.case_number)
    if f.action is not None:
        stmt = stmt.where(AuditEventRow.action == f.action)
    if f.actor_id is not None:
        stmt = stmt.where(AuditEventRow.actor_id == f.actor_id)
    kept_instant(f.from_, ("filter", "from"))
    kept_instant(f.to, ("filter", "to"))
    if f.from_ is not None:
        stmt = stmt.where(AuditEventRow.at >= f.from_)
    if f.to is not None:
        stmt = stmt.where(AuditEventRow.at < f.to)

    async def fetch(node: Node, session: AsyncSession) -> Sequence[AuditEventRow]:
        page = stmt.order_by(AuditEventRow.at, AuditEventRow.division_code, AuditEventRow.seq)
        if node.id in positions:
            page = page.where(positions[node.id])
        return (await session.scalars(page.limit(size + 1))).all()

    result = await fan_out(ctx.sessions, levels, fetch, timeout=settings.node_timeout_seconds)
    report_unavailable(info, result.unavailable)
    merged = merge_page(dict(result.values), _time_key, first=size, start=start)
    return connection(merged, AuditEvent.from_row)
