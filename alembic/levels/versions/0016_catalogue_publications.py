"""Publication of the lists (于6月、12月集中公布): a version per publication, the
catalogue as published, and the version that last published each matter

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 19:50:00.000000
"""

import sqlalchemy as sa
from alembic import op


revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalogue_publications",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("batch", sa.String(length=7), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=32), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("matters", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("version"),
    )
    with op.batch_alter_table("catalogue_publications", schema=None) as batch_op:
        batch_op.create_index("ix_catalogue_publications_batch", ["batch"], unique=False)
    with op.batch_alter_table("matters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("published_version", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("matters", schema=None) as batch_op:
        batch_op.drop_column("published_version")
    with op.batch_alter_table("catalogue_publications", schema=None) as batch_op:
        batch_op.drop_index("ix_catalogue_publications_batch")
    op.drop_table("catalogue_publications")
