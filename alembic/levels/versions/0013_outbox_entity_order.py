"""outbox and inbox: the entity a message is about and its place in that entity's
stream, so the messages about one entity apply in the order they were written

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 18:50:00.000000
"""

import sqlalchemy as sa
from alembic import op


revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entity", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("entity_seq", sa.Integer(), nullable=True))
        batch_op.create_index(
            "ix_outbox_entity_seq", ["entity", "target_level", "entity_seq"], unique=True
        )
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entity", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("entity_seq", sa.Integer(), nullable=True))
        batch_op.create_index(
            "ix_inbox_entity_seq", ["source_level", "entity", "entity_seq"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_entity_seq")
        batch_op.drop_column("entity_seq")
        batch_op.drop_column("entity")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_entity_seq")
        batch_op.drop_column("entity_seq")
        batch_op.drop_column("entity")
