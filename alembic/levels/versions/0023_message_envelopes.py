"""Signed envelopes and receipts of cross-level messages: the outbox keeps the JWS it
sent and the receipt its target signed on applying it

Revision ID: 0023
Revises: 0021
Create Date: 2026-12-06 22:00:00.000000
"""

import sqlalchemy as sa
from alembic import op


revision = "0023"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("envelope", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("receipt", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("receipt")
        batch_op.drop_column("envelope")
