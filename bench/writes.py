"""The raw write behind the acceptCase baselines (in-process and ``bench.raw``): the
transition done in one SQLAlchemy Core transaction, without the hub's policy check,
calendar, clock or timers."""

from __future__ import annotations

from typing import cast

import orjson
from sqlalchemy import Table, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bench.backends import DEMO_NOW
from gateway.nodes import NodeRegistry
from levels.audit.chain import GENESIS, EventDraft, canonical, link
from levels.audit.models import AuditEvent, AuditHead
from levels.cases.enums import CaseStatus
from levels.cases.models import Case
from levels.cases.service import china_date
from levels.common.enums import Level

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
