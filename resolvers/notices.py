"""Notices (通知书) of cases over the API: the verification of a presented notice.

A notice is kept in the store of the org that issued it; its id names the case and
that store's level (``levels/notices/service.parse_notice_id``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from levels.licences.tokens import token_kid
from levels.notices.enums import NoticeRefusal
from levels.notices.models import CaseNotice
from levels.notices.service import parse_notice_id
from levels.notices.tokens import NoticeVerdict, open_notice
from schema.info import Info


@dataclass(frozen=True)
class NoticeCheck:
    verdict: NoticeVerdict
    row: CaseNotice | None  # the notice as its store keeps it, when on record
    checked_at: dt.datetime


async def verify(info: Info, token: str) -> NoticeCheck:
    """验证 a presented notice (its QR code's token): signed by a known key of the org
    it names, and kept, with this very token, by the store that issued it."""
    ctx = info.context
    now = ctx.clock.now()
    directory = ctx.licensing.directory
    kid = token_kid(token) if isinstance(token, str) and len(token) <= 8_192 else None
    if kid is not None:
        await directory.lookup(kid)
    verdict = open_notice(token, directory.lookup_loaded)
    if not verdict.valid or verdict.claims is None:
        return NoticeCheck(verdict, None, now)
    parsed = parse_notice_id(verdict.claims["jti"])
    row = None
    if parsed is not None:
        async with ctx.nodes.owner_at(parsed.case_number, parsed.level).sessions() as session:
            row = await session.get(CaseNotice, parsed.value)
    if row is None or row.token != token:
        return NoticeCheck(NoticeVerdict(False, NoticeRefusal.NOT_ON_RECORD), None, now)
    return NoticeCheck(verdict, row, now)
