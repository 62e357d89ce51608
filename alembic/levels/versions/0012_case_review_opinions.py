"""初审意见 on the case: every review opinion given when a case was referred up

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 18:45:00.000000
"""

import sqlalchemy as sa
from alembic import op


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_opinions", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("review_opinions")
