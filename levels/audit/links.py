"""The cross-links between division chains: where a case (or a delegation) is handed
from one division to another, the receiving division's first event of it records the
sender's hand-over event — level, division, seq and hash — in its detail (``HANDOVER``,
covered by its own hash). A link holds when the sender's store has that event with that
hash; each chain is verified on its own (``levels.audit.chain``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.audit.chain import HANDOVER
from levels.audit.models import AuditEvent

# the sender's event is not in its store (or the store was not asked)
MISSING = "MISSING"
# the sender's event is there, with another hash than the receiver recorded
HASH_MISMATCH = "HASH_MISMATCH"
# what the receiving event records is not a hand-over link
MALFORMED = "MALFORMED"


@dataclass(frozen=True)
class Claim:
    """A receiving event and the sender's event it records."""

    level: str
    division: str
    seq: int
    case_number: str | None
    from_level: str
    from_division: str
    from_seq: int
    from_hash: str


@dataclass(frozen=True)
class LinkReport:
    """Whether one cross-link holds, and if not, why (``MISSING``, ``HASH_MISMATCH``,
    ``MALFORMED``)."""

    claim: Claim
    valid: bool
    problem: str | None


def claim_of(row: AuditEvent) -> Claim | None:
    """The hand-over link ``row`` records, if any (a malformed one as seq -1)."""
    given: Any = (row.detail or {}).get(HANDOVER)
    if given is None:
        return None
    ok = isinstance(given, dict) and isinstance(given.get("seq"), int)
    return Claim(
        level=row.level,
        division=row.division_code,
        seq=row.seq,
        case_number=row.case_number,
        from_level=str(given.get("level")) if ok else "",
        from_division=str(given.get("division")) if ok else "",
        from_seq=given["seq"] if ok else -1,
        from_hash=str(given.get("hash")) if ok else "",
    )


def judge(claim: Claim, found_hash: str | None) -> LinkReport:
    """The link of ``claim`` given the hash of the sender's event (None: not found)."""
    if claim.from_seq < 0:
        return LinkReport(claim, False, MALFORMED)
    if found_hash is None:
        return LinkReport(claim, False, MISSING)
    if found_hash != claim.from_hash:
        return LinkReport(claim, False, HASH_MISMATCH)
    return LinkReport(claim, True, None)


def check_links(rows: Iterable[AuditEvent]) -> list[LinkReport]:
    """The cross-links among events read together (a case's trail at every store it
    passed through), each judged against the sender's event among them."""
    events = list(rows)
    hashes = {(e.level, e.division_code, e.seq): e.hash for e in events}
    reports = []
    for event in events:
        claim = claim_of(event)
        if claim is not None:
            key = (claim.from_level, claim.from_division, claim.from_seq)
            reports.append(judge(claim, hashes.get(key)))
    return reports


async def claims_in(session: AsyncSession) -> list[Claim]:
    """Every cross-link the events of a store record, oldest first."""
    table = AuditEvent.__table__
    rows = await session.scalars(
        select(AuditEvent)
        .where(cast(table.c.detail, String).contains(f'"{HANDOVER}"'))
        .order_by(AuditEvent.division_code, AuditEvent.seq)
    )
    return [c for c in (claim_of(r) for r in rows) if c is not None]


async def sender_hash(session: AsyncSession, division: str, seq: int) -> str | None:
    """The hash of the event at ``seq`` of ``division``'s chain in this store."""
    return await session.scalar(
        select(AuditEvent.hash).where(AuditEvent.division_code == division, AuditEvent.seq == seq)
    )


async def verify_links(
    claims: Iterable[Claim],
    lookup: Callable[[str, str, int], Awaitable[str | None]],
) -> list[LinkReport]:
    """Judge each claim against the sender's store: ``lookup(level, division, seq)``
    gives the hash there (None: no such event, or no such store)."""
    reports = []
    for c in claims:
        found = None if c.from_seq < 0 else await lookup(c.from_level, c.from_division, c.from_seq)
        reports.append(judge(c, found))
    return reports
