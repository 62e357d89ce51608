"""Keys that say where they live: the rows a store numbers with an integer and the API
names (ratings, rectifications, complaints, queue tickets, appointment slots,
appointments) get a public key unique across nodes, ``<division code>-<uuid hex>``; and
jurisdiction filters read key ranges on an index: the one filtered key that had none, a
rectification's division code, gets one

Revision ID: 0025
Revises: 0023
Create Date: 2026-12-07 00:30:00.000000
"""

import sqlalchemy as sa
from alembic import op


revision = "0025"
down_revision = "0023"
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
    random_hex = (
        "replace(cast(gen_random_uuid() as text), '-', '')"
        if bind.dialect.name == "postgresql"
        else "lower(hex(randomblob(16)))"
    )
    for table, division in TABLES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("public_id", sa.String(length=45), nullable=True))
        op.execute(f"UPDATE {table} SET public_id = {division} || '-' || {random_hex}")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("public_id", existing_type=sa.String(length=45), nullable=False)
            batch_op.create_index(batch_op.f(f"ix_{table}_public_id"), ["public_id"], unique=True)
    with op.batch_alter_table("rectifications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rectifications_division_code"), ["division_code"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("rectifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rectifications_division_code"))
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_public_id"))
            batch_op.drop_column("public_id")
