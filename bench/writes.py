"""The raw write behind the acceptCase baselines (in-process and ``bench.raw``): the
transition done in one SQLAlchemy Core transaction, without the hub's policy check,
calendar, clock or timers."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass, field
from typing import Any, cast

import jwt
import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import (
    Boolean,
    Date,
    Integer,
    String,
    Table,
    bindparam,
    func,
    insert,
    literal,
    null,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from auth.models import Account
from bench.backends import DEMO_NOW
from gateway.nodes import NodeRegistry
from levels.audit.chain import GENESIS, EventDraft, canonical, link
from levels.audit.models import AuditEvent, AuditHead
from levels.calendar.models import CalendarDay, CalendarYear
from levels.calendar.workdays import WorkCalendar
from levels.cases.clocks import YELLOW_SHARE, ClockReading, read_clock
from levels.cases.enums import CaseStatus, TimerKind
from levels.cases.machine import Step
from levels.cases.models import Case, CaseTimer
from levels.cases.service import china_date
from levels.common.enums import Level
from levels.common.models import MatterImplementation, ServiceOrg
from levels.licences.models import LicenceKey
from levels.notices.enums import TITLES, NoticeKind
from levels.notices.models import CaseNotice
from levels.notices.service import ACCEPTANCE_TEXT

# 残疾人证 at 榆次区: a promised matter (a deemed-acceptance timer per case)
CASE_IMPLEMENTATION = "12140702MB000000062000700400100"
CASE_ORG = CASE_IMPLEMENTATION[:18]
_case = cast(Table, Case.__table__)
_event = cast(Table, AuditEvent.__table__)
_head = cast(Table, AuditHead.__table__)


async def accept_raw(nodes: NodeRegistry, number: str) -> bytes:
    """One transaction on the county store: the case row read for update and written
    with a version check, then one audit row appended to the hash chain (head locked,
    event inserted, head moved), as ``levels.audit.chain.append`` does."""
    node = nodes[Level.COUNTY]
    now = DEMO_NOW
    async with node.engine.begin() as conn:
        case = (
            await conn.execute(
                select(_case.c.version, _case.c.status, _case.c.submitted_at, _case.c.division_code)
                .where(_case.c.number == number)
                .with_for_update()
            )
        ).one()
        version = case.version + 1
        written = await conn.execute(
            update(_case)
            .where(_case.c.number == number, _case.c.version == case.version)
            .values(
                status=CaseStatus.ACCEPTED,
                accepted_on=china_date(case.submitted_at),
                updated_at=now,
                version=version,
            )
        )
        if written.rowcount != 1:
            raise RuntimeError(f"acceptCase baseline: {number} moved past version {case.version}")
        division = case.division_code
        at_head = _head.c.division_code == division
        dialect = node.engine.dialect.name
        first = (sqlite_insert if dialect == "sqlite" else pg_insert)(_head).values(
            division_code=division, seq=0, hash=GENESIS, signed_at=now
        )
        await conn.execute(first.on_conflict_do_nothing())
        if dialect == "sqlite":
            # a write first takes the database's write lock, as the chain's append does
            await conn.execute(update(_head).where(at_head).values(seq=_head.c.seq))
        head = (
            await conn.execute(select(_head.c.seq, _head.c.hash).where(at_head).with_for_update())
        ).one()
        seq = head.seq + 1
        draft = EventDraft(
            actor_id="bench",
            actor_kind="STAFF",
            role="RECEPTIONIST",
            channel="WEB",
            org_code=CASE_ORG,
            level=Level.COUNTY.value,
            action="ACCEPT",
            case_number=number,
            before=case.status.value,
            after=CaseStatus.ACCEPTED.value,
        )
        hash_ = link(head.hash, canonical(division, seq, now, draft))
        await conn.execute(
            insert(_event).values(
                division_code=division,
                seq=seq,
                at=now,
                actor_id=draft.actor_id,
                actor_kind=draft.actor_kind,
                role=draft.role,
                channel=draft.channel,
                org_code=draft.org_code,
                level=draft.level,
                action=draft.action,
                case_number=number,
                before=draft.before,
                after=draft.after,
                detail=draft.detail,
                request_id=None,
                prev_hash=head.hash,
                hash=hash_,
            )
        )
        await conn.execute(
            update(_head)
            .where(at_head)
            .values(seq=seq, hash=hash_, signed_at=now, kid=None, signature=None)
        )
    return orjson.dumps(
        {"number": number, "status": CaseStatus.ACCEPTED, "version": version, "seq": seq}
    )


# --- the full write: the same rows as the hub's acceptCase ----------------------------

_timer = cast(Table, CaseTimer.__table__)
_notice = cast(Table, CaseNotice.__table__)
_item = cast(Table, MatterImplementation.__table__)
_org = cast(Table, ServiceOrg.__table__)
_key = cast(Table, LicenceKey.__table__)
_day = cast(Table, CalendarDay.__table__)
_year = cast(Table, CalendarYear.__table__)
# the calendar in one statement, as the hub reads it: override days (0), years (1)
_CALENDAR = union_all(
    select(
        literal(0, Integer).label("kind"), _day.c.day, _day.c.year, _day.c.is_working_day,
        _day.c.name, null().cast(String).label("source"),
    ),
    select(
        literal(1, Integer), null().cast(Date), _year.c.year, null().cast(Boolean),
        null().cast(String), _year.c.source,
    ),
)  # fmt: skip
_PENDING = (_timer.c.fired_at.is_(None), _timer.c.cancelled_at.is_(None))
# the case's columns the write reads (of 62), with its item's code (None: not held here)
_READ_CASE = (
    select(
        _case.c.number, _case.c.status, _case.c.version, _case.c.level, _case.c.org_code,
        _case.c.division_code, _case.c.submitted_at, _case.c.promised_limit_days,
        _case.c.matter_name, _case.c.applicant_name, _case.c.applicant_id_masked,
        _case.c.rejection_reason, _item.c.code.label("item"),
    )
    .select_from(_case.outerjoin(_item, _item.c.code == _case.c.implementation_code))
    .where(_case.c.number == bindparam("number"))
    .with_for_update(of=_case)
)  # fmt: skip
_DUE_TIMERS = (
    select(_timer.c.id)
    .where(_timer.c.case_number == bindparam("number"), _timer.c.due_at <= bindparam("now"))
    .where(*_PENDING)
    .with_for_update()
)
_CANCEL_TIMERS = (
    update(_timer)
    .where(_timer.c.case_number == bindparam("b_number"), _timer.c.kind.in_(bindparam("b_kinds")))
    .where(*_PENDING)
    .values(cancelled_at=bindparam("b_now"))
)
_WRITE_CASE = (
    update(_case)
    .where(_case.c.number == bindparam("b_number"), _case.c.version == bindparam("b_was"))
    .values(
        status=bindparam("b_status"), accepted_on=bindparam("b_accepted_on"),
        deemed_accepted=False, due_on=bindparam("b_due_on"), yellow_on=bindparam("b_yellow_on"),
        clock_provisional=bindparam("b_provisional"), updated_at=bindparam("b_now"),
        version=bindparam("b_version"), rejection_reason=None, rejection_authority=None,
        rejection_proposed_by=None, rejection_proposed_at=None,
    )
)  # fmt: skip
# the notice's number, the org's name and its current signing key, in one statement
_current_key = (
    select(_key.c.kid, _key.c.private_pem)
    .where(_key.c.org_code == bindparam("org"), _key.c.retired_at.is_(None))
    .order_by(_key.c.created_at.desc(), _key.c.kid)
    .limit(1)
    .subquery()
)
_NOTICE_READ = select(
    select(func.count()).where(_notice.c.case_number == bindparam("number")).scalar_subquery(),
    select(_org.c.name).where(_org.c.code == bindparam("org")).scalar_subquery(),
    select(_current_key.c.kid).scalar_subquery(),
    select(_current_key.c.private_pem).scalar_subquery(),
)
_event_columns = [c.name for c in _event.columns]
_LOCK_HEAD = text(
    "SELECT seq, hash FROM audit_heads WHERE division_code = :division FOR UPDATE"
).columns(seq=Integer, hash=String)
# the event and the head's move in one statement (PostgreSQL)
_APPEND = text(
    f"WITH appended AS (INSERT INTO audit_events ({', '.join(_event_columns)})"
    f" VALUES ({', '.join(':' + c for c in _event_columns)}))"
    " UPDATE audit_heads SET seq = :seq, hash = :hash, signed_at = :at, kid = NULL,"
    " signature = NULL WHERE division_code = :division_code"
).bindparams(
    bindparam("detail", type_=_event.c.detail.type), bindparam("at", type_=_event.c.at.type)
)
_ENDED = [TimerKind.DEEMED_ACCEPTANCE, TimerKind.PUSH_ACCEPTANCE]
_ACCEPTANCE_TEXT = ACCEPTANCE_TEXT[Step.ACCEPT]
# the step's detail as the hub records it: the input's note (none given)
_DETAIL: dict[str, Any] = {"note": None}


@dataclass(frozen=True)
class RawActor:
    """Who accepts, as the hub's audit event names them (``resolvers.cases.actor_of``)."""

    id: str
    role: str | None
    org_code: str | None
    kind: str = "STAFF"
    channel: str | None = "WEB"


@dataclass
class RawKeys:
    """The org keys' secret and the keys decrypted so far (once per process, as the
    hub's ``OrgSigner`` does)."""

    secret: bytes
    decrypted: dict[str, ec.EllipticCurvePrivateKey] = field(default_factory=dict)

    def key_of(self, kid: str, pem: str) -> ec.EllipticCurvePrivateKey:
        key = self.decrypted.get(kid)
        if key is None:
            loaded = serialization.load_pem_private_key(pem.encode(), password=self.secret)
            assert isinstance(loaded, ec.EllipticCurvePrivateKey)
            key = self.decrypted[kid] = loaded
        return key


async def raw_actor(nodes: NodeRegistry, username: str) -> RawActor:
    """A staff account as the audit records it: its id, its roles, its org."""
    account = cast(Table, Account.__table__)
    stmt = select(account.c.id, account.c.roles, account.c.org_code)
    async with nodes.identity.engine.connect() as conn:
        row = (await conn.execute(stmt.where(account.c.username == username))).one()
    return RawActor(row.id, ",".join(sorted(row.roles)) or None, row.org_code)


async def accept_full_raw(
    nodes: NodeRegistry,
    number: str,
    actor: RawActor,
    keys: RawKeys,
    *,
    request_id: str | None = None,
    now: dt.datetime = DEMO_NOW,
) -> bytes:
    """受理 of a SUBMITTED case, writing the rows the hub's ``acceptCase`` writes, in
    one transaction on the county store and nine statements on PostgreSQL, as the
    hub's: the case (its columns the write needs, of 62) and its item read, the case
    locked; its due timers locked (the bench's have none due); the calendar; its
    deemed-acceptance and push timers cancelled; the case written (status, acceptance
    day, clock dates, version + 1) with a version check; the acceptance notice (its
    number, the org's name and current key read in one statement; its content sealed
    as a ``notice+jwt`` with the org's key; one INSERT); then the audit event on the
    division's chain (the head locked; the event and the head's move in one
    statement). No policy table, no GraphQL, no ORM; the answer is the case's number,
    status, version and clock."""
    node = nodes[Level.COUNTY]
    today = china_date(now)
    sqlite = node.engine.dialect.name == "sqlite"
    async with node.engine.begin() as conn:
        if sqlite:
            # a write first takes the database's write lock, as the hub's step does
            await conn.execute(update(_case).where(_case.c.number == number).values(number=number))
        case = (await conn.execute(_READ_CASE, {"number": number})).one()
        if case.status is not CaseStatus.SUBMITTED or case.item is None:
            raise RuntimeError(f"acceptCase baseline: {number} is {case.status}, not SUBMITTED")
        if (await conn.execute(_DUE_TIMERS, {"number": number, "now": now})).first():
            raise RuntimeError(f"acceptCase baseline: {number} has due timers")
        found = (await conn.execute(_CALENDAR)).all()
        calendar = WorkCalendar.from_rows(
            [r for r in found if r.kind == 0], [r for r in found if r.kind == 1]
        )
        accepted_on = china_date(case.submitted_at)
        limit = case.promised_limit_days

        def due(days: int) -> ClockReading:
            return read_clock(
                calendar=calendar, accepted_on=accepted_on, limit_days=days, suspensions=(),
                today=today,
            )  # fmt: skip

        reading = due(limit)
        yellow_on = due(math.ceil(limit * YELLOW_SHARE)).due_on
        await conn.execute(_CANCEL_TIMERS, {"b_number": number, "b_kinds": _ENDED, "b_now": now})
        version = case.version + 1
        written = await conn.execute(
            _WRITE_CASE,
            {
                "b_number": number, "b_was": case.version, "b_status": CaseStatus.ACCEPTED,
                "b_accepted_on": accepted_on, "b_due_on": reading.due_on,
                "b_yellow_on": yellow_on, "b_provisional": reading.provisional, "b_now": now,
                "b_version": version,
            },
        )  # fmt: skip
        if written.rowcount != 1:
            raise RuntimeError(f"acceptCase baseline: {number} moved past version {case.version}")
        # the acceptance notice, sealed
        issued, org_name, kid, pem = (
            await conn.execute(_NOTICE_READ, {"number": number, "org": case.org_code})
        ).one()
        if kid is None:
            raise RuntimeError(f"acceptCase baseline: {case.org_code} has no signing key")
        seq = 1 + (issued or 0)
        notice_id = f"{number}-{case.level.value}-{seq}"
        content = {
            "v": 1,
            "kind": NoticeKind.ACCEPTANCE.value,
            "title": TITLES[NoticeKind.ACCEPTANCE],
            "org": {"code": case.org_code, "name": org_name or case.org_code},
            "case": number,
            "matter": case.matter_name,
            "applicant": {"name": case.applicant_name, "idMasked": case.applicant_id_masked},
            "issuedOn": today.isoformat(),
            "text": _ACCEPTANCE_TEXT,
            "acceptedOn": accepted_on.isoformat(),
            "promisedLimitDays": limit,
            "dueOn": reading.due_on.isoformat() if reading.due_on else None,
        }
        claims = {
            "iss": case.org_code,
            "iss_name": content["org"]["name"],
            "jti": notice_id,
            "kind": NoticeKind.ACCEPTANCE.value,
            "title": content["title"],
            "case": number,
            "iat": int(now.timestamp()),
            "sha256": hashlib.sha256(
                orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
            ).hexdigest(),
        }
        token = jwt.encode(
            claims, keys.key_of(kid, pem), algorithm="ES256",
            headers={"kid": kid, "typ": "notice+jwt"},
        )  # fmt: skip
        await conn.execute(
            insert(_notice),
            {
                "id": notice_id, "case_number": number, "seq": seq,
                "kind": NoticeKind.ACCEPTANCE, "org_code": case.org_code, "issued_at": now,
                "content": content, "kid": kid, "token": token,
            },
        )  # fmt: skip
        seq_, _hash = await _append_event(conn, sqlite, case, number, actor, request_id, now)
    return orjson.dumps(
        {
            "number": number,
            "status": CaseStatus.ACCEPTED,
            "version": version,
            "clock": {"dueOn": reading.due_on, "workingDaysLeft": reading.working_days_left},
            "seq": seq_,
        }
    )


async def _append_event(
    conn: AsyncConnection,
    sqlite: bool,
    case: Any,
    number: str,
    actor: RawActor,
    request_id: str | None,
    now: dt.datetime,
) -> tuple[int, str]:
    """The ACCEPT event on its division's chain: on PostgreSQL the head locked, then the
    event and the head's move in one statement; on SQLite the head read (the write
    lock is held), the event inserted, the head moved."""
    division = case.division_code
    at_head = _head.c.division_code == division
    if sqlite:
        head = (await conn.execute(select(_head.c.seq, _head.c.hash).where(at_head))).first()
    else:
        head = (await conn.execute(_LOCK_HEAD, {"division": division})).first()
    if head is None:
        raise RuntimeError(f"acceptCase baseline: division {division} has no audit head")
    seq = head.seq + 1
    draft = EventDraft(
        actor_id=actor.id, actor_kind=actor.kind, role=actor.role, channel=actor.channel,
        org_code=actor.org_code, level=case.level.value, action=Step.ACCEPT.value,
        case_number=number, before=CaseStatus.SUBMITTED.value, after=CaseStatus.ACCEPTED.value,
        request_id=request_id, detail=_DETAIL,
    )  # fmt: skip
    hash_ = link(head.hash, canonical(division, seq, now, draft))
    event = {
        "division_code": division, "seq": seq, "at": now, "actor_id": draft.actor_id,
        "actor_kind": draft.actor_kind, "role": draft.role, "channel": draft.channel,
        "org_code": draft.org_code, "level": draft.level, "action": draft.action,
        "case_number": number, "before": draft.before, "after": draft.after, "detail": draft.detail,
        "request_id": request_id, "prev_hash": head.hash, "hash": hash_,
    }  # fmt: skip
    if sqlite:
        await conn.execute(insert(_event), event)
        await conn.execute(
            update(_head)
            .where(at_head)
            .values(seq=seq, hash=hash_, signed_at=now, kid=None, signature=None)
        )
    else:
        await conn.execute(_APPEND, event)
    return seq, hash_
