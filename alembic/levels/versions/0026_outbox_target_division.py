"""outbox: the division a message goes to, as a column of its own (indexed), filled
for the rows a store already holds from the ``targetDivision`` their payload named;
the senders route by it

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 04:00:00.000000
"""

import sqlalchemy as sa
from alembic import op


revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    named = (
        "json_extract(payload, '$.targetDivision')"
        if bind.dialect.name == "sqlite"
        else "payload ->> 'targetDivision'"
    )
    op.add_column("outbox", sa.Column("target_division", sa.String(length=12), nullable=True))
    op.execute(f"UPDATE outbox SET target_division = {named} WHERE {named} IS NOT NULL")
    op.create_index(
        op.f("ix_outbox_target_division"), "outbox", ["target_division"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_target_division"), table_name="outbox")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("target_division")
