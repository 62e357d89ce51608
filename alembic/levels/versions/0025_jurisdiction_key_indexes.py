"""Jurisdiction filters read key ranges (``key >= lo AND key < hi``) on an index: the
one filtered key that had none, a rectification's division code, gets one

Revision ID: 0025
Revises: 0023
Create Date: 2026-12-07 00:30:00.000000
"""

from alembic import op


revision = "0025"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rectifications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rectifications_division_code"), ["division_code"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("rectifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rectifications_division_code"))
