"""Resolvers of the audit trail: auditors and supervisors read it within their
jurisdiction (the policy table), across the nodes a case passed through."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.errors import AuthErrorCode
from auth.policy import Action, allows, jurisdiction_prefix
from gateway.nodes import LevelNode
from levels.audit.chain import verify_chain
from levels.audit.models import AuditEvent as AuditEventRow
from levels.cases.numbers import parse_case_number
from levels.common.codes import parse_division
from levels.common.dates import kept_instant
from levels.common.enums import LEVELS
from levels.common.errors import DomainError
from resolvers.fanout import fan_out
from resolvers.pagination import decode_cursor, merge_page, page_size
from resolvers.partial import report_unavailable
from schema.audit import AuditEvent, AuditFilter, AuditTrail, ChainStatus, audit_target
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
    parsed = parse_case_number(case_number, field="caseNumber")
    _require(info, parsed.value)
    node = info.context.nodes[parsed.division.level]
    async with node.sessions() as session:
        rows = (
            await session.scalars(
                select(AuditEventRow)
                .where(AuditEventRow.case_number == parsed.value)
                .order_by(AuditEventRow.seq)
            )
        ).all()
        report = await verify_chain(
            session=session,
            level=node.level.value,
            public_key_for=info.context.identity.keys.public_key,
        )
    return AuditTrail(
        case_number=parsed.value,
        events=[AuditEvent.from_row(r) for r in rows],
        chain=ChainStatus.of(node.level, report),
    )


async def audit_events(
    info: Info, filter: AuditFilter | None, first: int | None, after: str | None
) -> Connection[AuditEvent]:
    ctx = info.context
    f = filter or AuditFilter()
    prefix = _require(info, None)
    settings = ctx.settings
    size = page_size(first, default=settings.default_page_size, maximum=settings.max_page_size)
    levels = [f.level] if f.level else list(LEVELS)
    start = decode_cursor(after, allowed=levels)
    stmt = select(AuditEventRow).where(AuditEventRow.case_number.startswith(prefix))
    if f.division_code is not None:
        below = parse_division(f.division_code, field=("filter", "divisionCode")).prefix
        stmt = stmt.where(AuditEventRow.case_number.startswith(below))
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

    async def fetch(node: LevelNode, session: AsyncSession) -> Sequence[AuditEventRow]:
        page = stmt.order_by(AuditEventRow.seq)
        position = start.get(node.level)
        if position is not None:
            page = page.where(AuditEventRow.seq > int(position))
        return (await session.scalars(page.limit(size + 1))).all()

    result = await fan_out(ctx.sessions, levels, fetch, timeout=settings.node_timeout_seconds)
    report_unavailable(info, result.unavailable)
    merged = merge_page(dict(result.values), lambda r: f"{r.seq:012d}", first=size, start=start)
    return connection(merged, AuditEvent.from_row)
