"""cases: a rejection proposed at the window waits for a second person's approval
(窗口无否决权): who proposed it, and when

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 19:50:00.000000
"""

import sqlalchemy as sa
from alembic import op


revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rejection_proposed_by", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("rejection_proposed_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("rejection_proposed_at")
        batch_op.drop_column("rejection_proposed_by")
