"""A staff member's read of a case, audited at the node that holds it (DESIGN §2, "A
node is a service"): the hub answers the case only once the node has the read's event
in its own chain. The node reads the cases of the call (one statement), makes each
event from its own row and appends them with its group appender (``levels/audit/
batch.py``): the reads of one call — and of the calls that arrive meanwhile — go in
one transaction."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from levels.audit.batch import appender_for
from levels.cases import service as case_service
from levels.cases.errors import CaseErrorCode
from levels.cases.models import Case
from levels.cases.service import Actor
from levels.common.errors import DomainError


@dataclass(frozen=True)
class CaseRead:
    """Who read which case, when (the hub's instant)."""

    number: str
    actor: Actor
    at: dt.datetime


async def record_case_reads(
    sessions: async_sessionmaker[AsyncSession], reads: Sequence[CaseRead]
) -> None:
    """Each read's ``READ`` event in the chain of the division holding its case,
    committed before this returns; CASE_NOT_FOUND (nothing written) when a case is not
    here."""
    if not reads:
        return
    numbers = sorted({r.number for r in reads})
    async with sessions() as session:
        found = {
            c.number: c for c in await session.scalars(select(Case).where(Case.number.in_(numbers)))
        }
    for i, read in enumerate(reads):
        if read.number not in found:
            raise DomainError(
                CaseErrorCode.CASE_NOT_FOUND, field=["reads", str(i), "number"], detail=read.number
            )
    appender = appender_for(sessions)
    drafts = [
        case_service.case_event(
            found[r.number], r.actor, case_service.READ_ACTION, found[r.number].status
        )
        for r in reads
    ]
    # queued together, written in one transaction
    await asyncio.gather(*(appender.append(d, r.at) for d, r in zip(drafts, reads, strict=True)))
