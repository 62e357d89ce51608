"""cases: archive_overdue, the flag the ARCHIVE_DUE timer raises on a delivered case not
archived within 1 working day (归档), so it can be filtered and counted

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 19:50:00.000000
"""

import sqlalchemy as sa
from alembic import op


revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("archive_overdue", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # a case already flagged in its audit trail keeps the flag
    cases = sa.table("cases", sa.column("number"), sa.column("archive_overdue", sa.Boolean()))
    events = sa.table("audit_events", sa.column("case_number"), sa.column("action"))
    flagged = sa.select(events.c.case_number).where(events.c.action == "ARCHIVE_OVERDUE")
    op.execute(
        cases.update().where(cases.c.number.in_(flagged)).values(archive_overdue=sa.true())
    )

def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("archive_overdue")
