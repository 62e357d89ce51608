"""Keys that say where they live: the rows a store numbers with an integer and the API
names (ratings, rectifications, complaints, queue tickets, appointment slots,
appointments) get a public key unique across nodes, ``<division code>-<uuid hex>``; and
jurisdiction filters read key ranges on an index: the one filtered key that had none, a
rectification's division code, gets one

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 00:30:00.000000
"""

import sqlalchemy as sa
from alembic import op


revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

# each table and the SQL of the division that holds its rows
TABLES = {
    "evaluations": "division_code",
    "rectifications": "division_code",
    "complaints": "division_code",
    "queue_tickets": "division_code",
    "appointment_slots": "substr(window_id, 1, 12)",
    "appointments": "division_code",
}


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    random_hex = (
        "lower(hex(randomblob(16)))"
        if sqlite
        else "replace(cast(gen_random_uuid() as text), '-', '')"
    )
    for table, division in TABLES.items():
        if sqlite:
            # SQLite adds a NOT NULL column in place when it has a default; a batch
            # (copy, drop, rename) would drop a table other rows point at (a
            # rectification's rating, an appointment's slot)
            op.add_column(
                table,
                sa.Column("public_id", sa.String(length=45), nullable=False, server_default=""),
            )
        else:
            op.add_column(table, sa.Column("public_id", sa.String(length=45), nullable=True))
        op.execute(f"UPDATE {table} SET public_id = {division} || '-' || {random_hex}")
        if not sqlite:
            op.alter_column(table, "public_id", existing_type=sa.String(length=45), nullable=False)
        op.create_index(op.f(f"ix_{table}_public_id"), table, ["public_id"], unique=True)
    op.create_index(
        op.f("ix_rectifications_division_code"), "rectifications", ["division_code"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_rectifications_division_code"), table_name="rectifications")
    for table in reversed(TABLES):
        op.drop_index(op.f(f"ix_{table}_public_id"), table_name=table)
        op.drop_column(table, "public_id")
