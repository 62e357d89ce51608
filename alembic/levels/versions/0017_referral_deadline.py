"""转报: the referral deadline of a case received below its deciding level (cases:
referral_due_on, referral_yellow_on; matter_implementations: referral_limit_days), the
one-time notices to the station that received it (cases: station_notices), and which
clock earned a supervision card (supervision_cards: clock)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 21:30:00.000000
"""

import sqlalchemy as sa
from alembic import op


revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("referral_due_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("referral_yellow_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("station_notices", sa.JSON(), nullable=True))
    with op.batch_alter_table("matter_implementations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("referral_limit_days", sa.Integer(), nullable=True))
    with op.batch_alter_table("supervision_cards", schema=None) as batch_op:
        # every card issued so far was earned by a handling clock
        batch_op.add_column(
            sa.Column(
                "clock",
                sa.Enum("HANDLING", "REFERRAL", name="cardclock", native_enum=False, length=32),
                nullable=False,
                server_default="HANDLING",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("supervision_cards", schema=None) as batch_op:
        batch_op.drop_column("clock")
    with op.batch_alter_table("matter_implementations", schema=None) as batch_op:
        batch_op.drop_column("referral_limit_days")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("station_notices")
        batch_op.drop_column("referral_yellow_on")
        batch_op.drop_column("referral_due_on")
