"""容缺承诺: case_tolerances (what was promised, by when, the consequence stated, and what
became of it), and the consequence a matter implementation states for a late one

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 21:30:00.000000
"""

import sqlalchemy as sa
from alembic import op


revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_tolerances",
        sa.Column("case_number", sa.String(length=27), nullable=False),
        sa.Column("materials", sa.JSON(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("consequence", sa.String(length=32), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handed_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("noticed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lapsed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("overridden_by", sa.String(length=32), nullable=True),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("overridden_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_number"], ["cases.number"]),
        sa.PrimaryKeyConstraint("case_number"),
    )
    with op.batch_alter_table("matter_implementations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tolerance_consequence", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("matter_implementations", schema=None) as batch_op:
        batch_op.drop_column("tolerance_consequence")
    op.drop_table("case_tolerances")
