"""Written notices (通知书): each step that the seeds say produces a notice writes one,
with the content its document prints and the issuing org's signature

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 21:30:00.000000
"""

import sqlalchemy as sa
from alembic import op


revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_notices",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("case_number", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("org_code", sa.String(length=18), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=True),
        sa.Column("token", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_number", "seq"),
    )
    with op.batch_alter_table("case_notices", schema=None) as batch_op:
        batch_op.create_index("ix_case_notices_case_number", ["case_number"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_notices", schema=None) as batch_op:
        batch_op.drop_index("ix_case_notices_case_number")
    op.drop_table("case_notices")
