"""The audit trail of a node as hash chains, one per division: in each,
``h_i = H(h_{i-1} ‖ canonical(e_i))`` from ``GENESIS``, its newest link kept (and,
separately, signed) in that division's head row.

``append`` writes an event inside the caller's transaction, so an action and its audit
event are committed together or not at all; it takes the lock of its division's head
first, so two appenders to one division never read the same head and its chain never
forks, while appenders to other divisions do not wait for it:

- PostgreSQL: ``SELECT … FOR UPDATE`` of the division's head row; a second appender to
  that division waits for the first to commit and then reads the head the first wrote.
  The event and the moved head then go in by one statement (``levels.audit.postgres``:
  the lock is held for two round trips and the commit, not three).
- SQLite: a write statement on the head (``UPDATE audit_heads SET seq = seq``) comes
  before the head is read. It takes the database's write lock (waiting out the busy
  timeout if another writer holds it), so the read that follows sees the newest head.
  A caller must not hold an open read snapshot from before (the driver opens its
  transactions at the first write, so a caller's earlier reads do not).

Append is best the caller's last write: the head lock is then held only to the commit.
Signing a head is separate (``sign_head``); an append moves the head and clears its
signature, which no longer covers it, until the head is signed again.

A hand-over (a case referred up, a delegation reaching a town) links two chains: the
sender's hand-over event travels in the message (``handover_link``) and the receiving
division's first event of it records it in its detail (``HANDOVER``), where its own hash
covers it.

``verify_division`` recomputes one division's chain and reports the first row that
fails; ``verify_chain`` does so for every division of the store."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, cast

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Table, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from levels.audit import postgres
from levels.audit.models import AuditEvent, AuditHead
from levels.common.enums import Level

if TYPE_CHECKING:
    from auth.keys import KeyRing

GENESIS = "0" * 64
# the chain of a node's own events, of no division (a refused message of no case)
NODE_DIVISION = "000000000000"
BATCH = 1000
# the key, in a receiving event's detail and in a hand-over message's payload, of the
# sender's hand-over event: {"level", "division", "seq", "hash"}
HANDOVER = "handover"

TAMPERED = "TAMPERED"
BROKEN_LINK = "BROKEN_LINK"
GAP = "GAP"
HEAD_MISMATCH = "HEAD_MISMATCH"
BAD_SIGNATURE = "BAD_SIGNATURE"

_events = cast(Table, AuditEvent.__table__)


@dataclass(frozen=True)
class EventDraft:
    """What a caller records; ``append`` gives it its seq, time and link. The event
    goes to the chain of ``division_code`` — when None, of the division its case number
    names, else the node's own (``NODE_DIVISION``)."""

    actor_id: str
    actor_kind: str
    role: str | None
    channel: str | None
    org_code: str | None
    level: str
    action: str
    case_number: str | None = None
    before: str | None = None
    after: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    request_id: str | None = None
    division_code: str | None = None


def division_of(draft: EventDraft) -> str:
    """The division whose chain an event of ``draft`` goes to."""
    if draft.division_code:
        return draft.division_code
    if draft.case_number and len(draft.case_number) >= 12:
        return draft.case_number[:12]
    return NODE_DIVISION


class EventFields(Protocol):
    """The recorded fields of an event: an ``EventDraft``, an ``AuditEvent`` or a row."""

    @property
    def actor_id(self) -> str: ...
    @property
    def actor_kind(self) -> str: ...
    @property
    def role(self) -> str | None: ...
    @property
    def channel(self) -> str | None: ...
    @property
    def org_code(self) -> str | None: ...
    @property
    def level(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def case_number(self) -> str | None: ...
    @property
    def before(self) -> str | None: ...
    @property
    def after(self) -> str | None: ...
    @property
    def detail(self) -> dict[str, Any]: ...
    @property
    def request_id(self) -> str | None: ...


def utc_stamp(at: dt.datetime) -> str:
    """An instant as UTC ISO 8601 with microseconds (``2026-11-20T02:00:00.000000+00:00``)."""
    if at.tzinfo is None:
        raise ValueError("naive datetime: audit events record instants with their offset")
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds")


def canonical(division: str, seq: int, at: dt.datetime, event: EventFields) -> bytes:
    """The bytes an event's hash covers: its division, every field but the two hashes,
    as JSON with sorted keys (nested ones too), the time in UTC with microseconds."""
    return orjson.dumps(
        {
            "division_code": division,
            "seq": seq,
            "at": utc_stamp(at),
            "actor_id": event.actor_id,
            "actor_kind": event.actor_kind,
            "role": event.role,
            "channel": event.channel,
            "org_code": event.org_code,
            "level": event.level,
            "action": event.action,
            "case_number": event.case_number,
            "before": event.before,
            "after": event.after,
            "detail": event.detail,
            "request_id": event.request_id,
        },
        option=orjson.OPT_SORT_KEYS,
    )


def time_key(row: AuditEvent) -> tuple[dt.datetime, int, str, int]:
    """Where an event stands among a case's events of every node: by time — one case's
    steps never happen at two levels at once; at the same instant the lower level's
    first, as it hands the case up — and within one store by division and chain."""
    return (row.at, -Level(row.level).depth, row.division_code, row.seq)


def in_time_order(rows: Iterable[AuditEvent]) -> list[AuditEvent]:
    """Events read from several nodes, oldest first (``time_key``)."""
    return sorted(rows, key=time_key)


def link(prev_hash: str, canonical_bytes: bytes) -> str:
    """``h_i = SHA-256(h_{i-1} ‖ e_i)``, hex."""
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical_bytes).hexdigest()


def head_message(level: str, division: str, seq: int, hash_: str) -> bytes:
    """What a head signature covers: ``"<node>:<division>:<seq>:<hash>"``."""
    return f"{level}:{division}:{seq}:{hash_}".encode()


def handover_link(event: AuditEvent) -> dict[str, Any]:
    """The sender's hand-over event as a message carries it and the receiver records it."""
    return {
        "level": event.level,
        "division": event.division_code,
        "seq": event.seq,
        "hash": event.hash,
    }


def carry_handover(payload: dict[str, Any], event: AuditEvent) -> dict[str, Any]:
    """A message's payload (a new dict, so the change is written) carrying the
    sender's hand-over ``event``."""
    return {**payload, HANDOVER: handover_link(event)}


def with_handover(detail: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    """``detail`` of a receiving event, with the hand-over link ``payload`` carries."""
    given = payload.get(HANDOVER)
    return {**detail, HANDOVER: given} if isinstance(given, dict) else detail


async def _lock_head(session: AsyncSession, division: str, now: dt.datetime) -> AuditHead:
    """The division's head row, locked for this transaction (created at seq 0 when
    missing)."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    stmt = (
        select(AuditHead)
        .where(AuditHead.division_code == division)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    for attempt in range(2):
        if sqlite:
            # a write first: it takes the write lock (or waits for it) before the read
            await session.execute(
                update(AuditHead)
                .where(AuditHead.division_code == division)
                .values(seq=AuditHead.seq)
                .execution_options(synchronize_session=False)
            )
        head = await session.scalar(stmt)
        if head is not None:
            return head
        try:
            async with session.begin_nested():
                head = AuditHead(division_code=division, seq=0, hash=GENESIS, signed_at=now)
                session.add(head)
            return head
        except IntegrityError:
            # another first appender inserted the head meanwhile (PostgreSQL): lock theirs
            if attempt:
                raise
    raise AssertionError("unreachable")


def _row(division: str, seq: int, now: dt.datetime, draft: EventDraft, prev: str) -> dict[str, Any]:
    detail = orjson.loads(orjson.dumps(draft.detail))  # a copy, as the store returns it
    values: dict[str, Any] = {
        "division_code": division,
        "seq": seq,
        "at": now,
        "actor_id": draft.actor_id,
        "actor_kind": draft.actor_kind,
        "role": draft.role,
        "channel": draft.channel,
        "org_code": draft.org_code,
        "level": draft.level,
        "action": draft.action,
        "case_number": draft.case_number,
        "before": draft.before,
        "after": draft.after,
        "detail": detail,
        "request_id": draft.request_id,
        "prev_hash": prev,
    }
    # the draft's detail serialises to the same bytes as its copy
    values["hash"] = link(prev, canonical(division, seq, now, draft))
    return values


async def append(
    draft: EventDraft, *, session: AsyncSession, now: dt.datetime, row: object | None = None
) -> AuditEvent:
    """Append ``draft`` as the next event of its division's chain, inside the caller's
    transaction (the caller commits it together with its own change). ``row``: a
    mapped row the transaction already holds locked (its case); on PostgreSQL its
    pending UPDATE goes out in the append's last statement (``postgres.take_update``),
    elsewhere by the flush as every other change."""
    if session.get_bind().dialect.name == "postgresql":
        written = await _append_postgres([(draft, now)], session, row)
        return AuditEvent(**written[0])
    division = division_of(draft)
    head = await _lock_head(session, division, now)
    event = AuditEvent(**_row(division, head.seq + 1, now, draft, head.hash))
    session.add(event)
    head.seq, head.hash, head.signed_at = event.seq, event.hash, now
    # a signature covers the head it was made for, not this one
    head.kid = head.signature = None
    await session.flush()
    return event


async def append_many(
    drafts: Sequence[tuple[EventDraft, dt.datetime]], *, session: AsyncSession
) -> list[str]:
    """Append several events (each with its time) inside the caller's transaction: each
    division's head is locked once (in division order, so two batches never wait on
    each other in a circle) and every row goes in by one INSERT. Returns their hashes
    in the order given."""
    if not drafts:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return [row["hash"] for row in await _append_postgres(drafts, session)]
    by_division = _by_division(drafts)
    rows: list[dict[str, Any]] = [{} for _ in drafts]
    for division in sorted(by_division):
        first_now = drafts[by_division[division][0]][1]
        head = await _lock_head(session, division, first_now)
        seq, prev = head.seq, head.hash
        for i in by_division[division]:
            draft, now = drafts[i]
            seq += 1
            rows[i] = _row(division, seq, now, draft, prev)
            prev = rows[i]["hash"]
        head.seq, head.hash, head.signed_at = seq, prev, drafts[by_division[division][-1]][1]
        head.kid = head.signature = None
    await session.execute(insert(_events), rows)
    await session.flush()
    return [row["hash"] for row in rows]


def _by_division(drafts: Sequence[tuple[EventDraft, dt.datetime]]) -> dict[str, list[int]]:
    by_division: dict[str, list[int]] = {}
    for i, (draft, _) in enumerate(drafts):
        by_division.setdefault(division_of(draft), []).append(i)
    return by_division


async def _append_postgres(
    drafts: Sequence[tuple[EventDraft, dt.datetime]],
    session: AsyncSession,
    row: object | None = None,
) -> list[dict[str, Any]]:
    """``append_many`` on PostgreSQL in few round trips, each with a statement
    compiled once: the heads locked and read in one; then, for one event, the event
    inserted and its head moved in one more, else the events in one and the heads in
    one — every round trip under a head's lock is one its other appenders wait for.
    Returns the rows written, in the order given. ``row``'s UPDATE (``append``) is
    taken from the ORM before the heads' lock flushes the rest."""
    row_update = postgres.take_update(row) if row is not None else None
    by_division = _by_division(drafts)
    divisions = sorted(by_division)
    first = drafts[by_division[divisions[0]][0]][1]
    heads = await postgres.lock_heads(session, divisions, first, GENESIS)
    rows: list[dict[str, Any]] = [{} for _ in drafts]
    moved: list[dict[str, Any]] = []
    for division in divisions:
        seq, prev = heads[division]
        for i in by_division[division]:
            draft, now = drafts[i]
            seq += 1
            rows[i] = _row(division, seq, now, draft, prev)
            prev = rows[i]["hash"]
        last = drafts[by_division[division][-1]][1]
        moved.append({"division_code": division, "seq": seq, "hash": prev, "at": last})
    await postgres.write(session, rows, moved, row_update)
    return rows


class HeadSigner(Protocol):
    async def sign(self, data: bytes) -> tuple[str, str]:
        """Sign ``data``: the key id and the base64url signature."""
        ...


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class KeyRingSigner:
    """Signs with the hub's current Ed25519 signing key (the identity store's)."""

    def __init__(self, ring: KeyRing) -> None:
        self._ring = ring

    async def sign(self, data: bytes) -> tuple[str, str]:
        key = await self._ring.signing_key()
        assert key.private is not None
        return key.kid, _b64url(key.private.sign(data))


async def divisions(session: AsyncSession) -> list[str]:
    """The divisions that have a chain in this store (a head, or rows), in order."""
    heads = set((await session.scalars(select(AuditHead.division_code))).all())
    rows = set((await session.scalars(select(_events.c.division_code).distinct())).all())
    return sorted(heads | rows)


async def sign_head(
    *,
    session: AsyncSession,
    signer: HeadSigner,
    level: str,
    now: dt.datetime | None = None,
    division: str | None = None,
) -> None:
    """Sign the heads of the store's divisions (or of ``division`` alone), each
    ``"<level>:<division>:<seq>:<hash>"``, inside the caller's transaction, under each
    head's lock. ``now``, when given, becomes ``signed_at``; a store with no chain yet
    gets the genesis head (seq 0) of its node division signed. A head already signed
    is left as it is."""
    stamp = now if now is not None else dt.datetime.now(dt.UTC)
    if division is not None:
        names = [division]
    else:
        unsigned = select(AuditHead.division_code).where(AuditHead.signature.is_(None))
        names = list((await session.scalars(unsigned.order_by(AuditHead.division_code))).all())
        if not names and await session.scalar(select(AuditHead.division_code).limit(1)) is None:
            names = [NODE_DIVISION]
    for name in names:
        head = await _lock_head(session, name, stamp)
        head.kid, head.signature = await signer.sign(head_message(level, name, head.seq, head.hash))
        if now is not None:
            head.signed_at = now
    await session.flush()


# a head is signed by the hub's key ring (Ed25519) or by its node's own key (ES256)
HeadKey = Ed25519PublicKey | ec.EllipticCurvePublicKey


def verify_head_signature(head: AuditHead, level: str, public_key: HeadKey) -> bool:
    """Whether the head carries a signature by ``public_key`` over its division, seq
    and hash."""
    if head.signature is None:
        return False
    signed = head_message(level, head.division_code, head.seq, head.hash)
    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(_unb64url(head.signature), signed, ec.ECDSA(hashes.SHA256()))
        else:
            public_key.verify(_unb64url(head.signature), signed)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


@dataclass(frozen=True)
class ChainReport:
    """The outcome of verifying a division's chain (or, from ``verify_chain``, every
    division of a store: the first failure of any, and ``divisions`` one by one).
    ``first_bad_seq`` is the seq of the first row that fails (for a GAP, the row found
    after the missing seqs; for HEAD_MISMATCH, the first seq where rows and head
    disagree; for BAD_SIGNATURE, the head's seq), in ``division_code``'s chain.
    ``head_signed``: the head carries a signature (verified, when keys were given), made
    with ``head_kid`` (for a store: every head is signed)."""

    valid: bool
    events: int
    first_bad_seq: int | None
    problem: str | None
    head_signed: bool
    head_kid: str | None = None
    division_code: str | None = None
    divisions: tuple[ChainReport, ...] = ()


async def verify_division(
    *,
    session: AsyncSession,
    level: str,
    division: str,
    public_key_for: Callable[[str], Awaitable[HeadKey | None]] | None = None,
) -> ChainReport:
    """Recompute one division's chain from ``GENESIS`` in seq order (batches of
    ``BATCH`` rows), check seq continuity from 1, every link and hash, the head, and —
    with ``public_key_for`` and a signed head — the head's signature. Appends committed
    while it runs are followed up to the head."""
    table = _events
    events = 0
    last_seq, last_hash = 0, GENESIS
    problem: tuple[str, int] | None = None
    head_stmt = (
        select(AuditHead)
        .where(AuditHead.division_code == division)
        .execution_options(populate_existing=True)
    )
    head: AuditHead | None = None
    while True:
        rows = (
            await session.execute(
                select(table)
                .where(table.c.division_code == division, table.c.seq > last_seq)
                .order_by(table.c.seq)
                .limit(BATCH)
            )
        ).all()
        for row in rows:
            events += 1
            if problem is None:
                if row.seq != last_seq + 1:
                    problem = (GAP, row.seq)
                elif row.prev_hash != last_hash:
                    problem = (BROKEN_LINK, row.seq)
                elif link(row.prev_hash, canonical(division, row.seq, row.at, row)) != row.hash:
                    problem = (TAMPERED, row.seq)
            last_seq, last_hash = row.seq, row.hash
        if len(rows) == BATCH:
            continue
        # an append commits its row and the head together: a head beyond the rows read
        # means rows were appended meanwhile, unless nothing more is there to read
        head = await session.scalar(head_stmt)
        if not rows or head is None or head.seq <= last_seq:
            break
    head_seq, head_hash = (head.seq, head.hash) if head is not None else (0, GENESIS)
    if problem is None and (head_seq, head_hash) != (last_seq, last_hash):
        if head_seq > last_seq:  # trailing rows deleted
            problem = (HEAD_MISMATCH, last_seq + 1)
        elif head_seq < last_seq:  # rows beyond the head
            problem = (HEAD_MISMATCH, head_seq + 1)
        else:  # the last row is not the one the head names
            problem = (HEAD_MISMATCH, last_seq)
    signed = head is not None and head.signature is not None and head.kid is not None
    if signed and public_key_for is not None:
        assert head is not None and head.kid is not None
        key = await public_key_for(head.kid)
        if key is None or not verify_head_signature(head, level, key):
            signed = False
            if problem is None:
                problem = (BAD_SIGNATURE, head.seq)
    return ChainReport(
        valid=problem is None,
        events=events,
        first_bad_seq=problem[1] if problem else None,
        problem=problem[0] if problem else None,
        head_signed=signed,
        head_kid=head.kid if signed and head is not None else None,
        division_code=division,
    )


async def verify_chain(
    *,
    session: AsyncSession,
    level: str,
    public_key_for: Callable[[str], Awaitable[HeadKey | None]] | None = None,
) -> ChainReport:
    """Verify the chain of every division of the store (``verify_division``): valid
    when all are, the first failure (by division) otherwise, each in ``divisions``."""
    reports = tuple(
        [
            await verify_division(
                session=session, level=level, division=name, public_key_for=public_key_for
            )
            for name in await divisions(session)
        ]
    )
    bad = next((r for r in reports if not r.valid), None)
    kids = {r.head_kid for r in reports if r.head_kid}
    return ChainReport(
        valid=bad is None,
        events=sum(r.events for r in reports),
        first_bad_seq=bad.first_bad_seq if bad else None,
        problem=bad.problem if bad else None,
        head_signed=bool(reports) and all(r.head_signed for r in reports),
        head_kid=next(iter(kids)) if len(kids) == 1 else None,
        division_code=bad.division_code if bad else None,
        divisions=reports,
    )
