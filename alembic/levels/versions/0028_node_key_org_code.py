"""licence_keys: the org a key belongs to holds ``node:<id>`` for a node's message key,
so it is 64 characters, not an USCC's 18 (node ids of up to 40 characters; an id of
more than 13 did not fit on PostgreSQL)

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 07:30:00.000000
"""

import sqlalchemy as sa
from alembic import op


revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("licence_keys") as batch:
        batch.alter_column(
            "org_code", existing_type=sa.String(length=18), type_=sa.String(length=64)
        )


def downgrade() -> None:
    # a node key of an id longer than 13 characters does not fit back: refuse rather
    # than drop a key that signed messages still to be verified
    longer = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM licence_keys WHERE length(org_code) > 18")
    )
    if longer:
        raise RuntimeError(
            f"{longer} key(s) of nodes with ids longer than 13 characters do not fit an "
            "18-character org code: rename those nodes before downgrading"
        )
    with op.batch_alter_table("licence_keys") as batch:
        batch.alter_column(
            "org_code", existing_type=sa.String(length=64), type_=sa.String(length=18)
        )
