"""Audit: one hash chain per division, each with its head, instead of one per store

Every existing event becomes the next event of its division's chain (the division of
its case in this store, else the one its case number names, else its org's, else the
node's own ``000000000000``), re-linked under the per-division form, which covers the
division; the store's chain is verified first and the upgrade refuses a store whose
chain does not verify (re-linking it would hide the damage). The heads come out
unsigned: the timers sign them again.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 00:00:00.000000
"""

import datetime as dt
import hashlib
from typing import Any

import orjson
import sqlalchemy as sa

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
NODE_DIVISION = "000000000000"
FIELDS = (
    "actor_id", "actor_kind", "role", "channel", "org_code", "level", "action",
    "case_number", "before", "after", "detail", "request_id",
)  # fmt: skip


def _stamp(at: dt.datetime) -> str:
    aware = at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)
    return aware.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _canonical(row: Any, seq: int, division: str | None) -> bytes:
    # frozen copies of levels.audit.chain.canonical: before (no division) and after
    body: dict[str, Any] = {name: getattr(row, name) for name in FIELDS}
    body |= {"seq": seq, "at": _stamp(row.at)}
    if division is not None:
        body["division_code"] = division
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def _link(prev: str, data: bytes) -> str:
    return hashlib.sha256(bytes.fromhex(prev) + data).hexdigest()


def _event_columns(division: bool) -> list[sa.Column[Any]]:
    keys = [sa.Column("division_code", sa.String(12), nullable=False)] if division else []
    return [
        *keys,
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(64), nullable=False),
        sa.Column("actor_kind", sa.String(16), nullable=False),
        sa.Column("role", sa.String(128), nullable=True),
        sa.Column("channel", sa.String(16), nullable=True),
        sa.Column("org_code", sa.String(18), nullable=True),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("action", sa.String(48), nullable=False),
        sa.Column("case_number", sa.String(27), nullable=True),
        sa.Column("before", sa.String(32), nullable=True),
        sa.Column("after", sa.String(32), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint(*(["division_code", "seq"] if division else ["seq"])),
    ]


def _old_rows(bind: Any, table: sa.Table) -> list[Any]:
    rows = bind.execute(sa.select(table).order_by(table.c.seq)).all()
    prev = GENESIS
    for i, row in enumerate(rows, start=1):
        relinked = _link(prev, _canonical(row, i, None))
        if row.seq != i or row.prev_hash != prev or relinked != row.hash:
            raise RuntimeError(
                f"audit chain does not verify at seq {row.seq}: not re-linked per division; "
                "run `govhub audit verify` on the previous release and restore the store"
            )
        prev = row.hash
    return rows


def _division(row: Any, held: dict[str, str], orgs: dict[str, str]) -> str:
    if row.case_number and row.case_number in held:
        return held[row.case_number]
    if row.case_number and len(row.case_number) >= 12:
        return str(row.case_number[:12])
    if row.org_code and row.org_code in orgs:
        return orgs[row.org_code]
    return NODE_DIVISION


def upgrade() -> None:
    bind = op.get_bind()
    old = sa.Table("audit_events", sa.MetaData(), *_event_columns(division=False))
    rows = _old_rows(bind, old)
    held = dict(bind.execute(sa.text("SELECT number, division_code FROM cases")).all())
    orgs = dict(bind.execute(sa.text("SELECT code, division_code FROM service_orgs")).all())

    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_case_number")
    op.rename_table("audit_events", "audit_events_0023")
    new = op.create_table("audit_events", *_event_columns(division=True))
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_events_case_number", ["case_number"], unique=False)
    heads = op.create_table(
        "audit_heads",
        sa.Column("division_code", sa.String(12), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kid", sa.String(40), nullable=True),
        sa.Column("signature", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("division_code"),
    )
    chains: dict[str, tuple[int, str, Any]] = {}
    out = []
    for row in rows:
        division = _division(row, held, orgs)
        seq, prev, _ = chains.get(division, (0, GENESIS, None))
        seq += 1
        hash_ = _link(prev, _canonical(row, seq, division))
        out.append(
            {name: getattr(row, name) for name in FIELDS}
            | {"division_code": division, "seq": seq, "at": row.at}
            | {"prev_hash": prev, "hash": hash_}
        )
        chains[division] = (seq, hash_, row.at)
    if out:
        bind.execute(sa.insert(new), out)
        bind.execute(
            sa.insert(heads),
            [
                {"division_code": d, "seq": s, "hash": h, "signed_at": at}
                for d, (s, h, at) in sorted(chains.items())
            ],
        )
    op.drop_table("audit_events_0023")
    op.drop_table("audit_head")


def downgrade() -> None:
    bind = op.get_bind()
    new = sa.Table("audit_events", sa.MetaData(), *_event_columns(division=True))
    rows = bind.execute(sa.select(new).order_by(new.c.at, new.c.division_code, new.c.seq)).all()
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_case_number")
    op.drop_table("audit_events")
    op.drop_table("audit_heads")
    old = op.create_table("audit_events", *_event_columns(division=False))
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_events_case_number", ["case_number"], unique=False)
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kid", sa.String(40), nullable=True),
        sa.Column("signature", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    prev, out = GENESIS, []
    for seq, row in enumerate(rows, start=1):
        hash_ = _link(prev, _canonical(row, seq, None))
        out.append(
            {name: getattr(row, name) for name in FIELDS}
            | {"seq": seq, "at": row.at, "prev_hash": prev, "hash": hash_}
        )
        prev = hash_
    if out:
        bind.execute(sa.insert(old), out)
        bind.execute(
            sa.insert(head), [{"id": 1, "seq": len(out), "hash": prev, "signed_at": rows[-1].at}]
        )
