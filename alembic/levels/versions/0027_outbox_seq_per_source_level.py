"""outbox: an entity's messages are numbered per source level, as the receiver checks
their order (a node holding a county and its towns sends about one licence from both
levels, each level its own sequence)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 04:50:00.000000
"""

from alembic import op


revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_outbox_entity_seq", table_name="outbox")
    op.create_index(
        "ix_outbox_entity_seq",
        "outbox",
        ["entity", "source_level", "target_level", "entity_seq"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_entity_seq", table_name="outbox")
    op.create_index(
        "ix_outbox_entity_seq", "outbox", ["entity", "target_level", "entity_seq"], unique=True
    )
