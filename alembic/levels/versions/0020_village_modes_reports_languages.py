"""Village service modes (the mode of a case, accompaniment, proxy fee and its waiver,
home visits), filed monthly reports, and languages (windows, staff, queue tickets,
the applicant's language on a case)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 21:00:00.000000
"""

import sqlalchemy as sa
from alembic import op


revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "village_services",
        sa.Column("case_number", sa.String(length=27), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("mode", sa.Enum("IMMEDIATE", "FULL_PROXY", "ACCOMPANIED", "HOME_VISIT",
                                  name="villageservicemode", native_enum=False, length=32),
                  nullable=False),  # fmt: skip
        sa.Column("accompanied_by", sa.String(length=100), nullable=True),
        sa.Column("fee_fen", sa.Integer(), nullable=False),
        sa.Column("fee_waiver", sa.Enum("DISABILITY_CERTIFICATE", "AGE", name="feewaiver",
                                        native_enum=False, length=32), nullable=True),  # fmt: skip
        sa.Column("waiver_licence_id", sa.String(length=64), nullable=True),
        sa.Column("resident_age", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.String(length=32), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_number"),
    )
    op.create_index("ix_village_services_village_code", "village_services", ["village_code"])
    op.create_table(
        "home_visits",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_number", sa.String(length=27), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("staff", sa.Text(), nullable=False),
        sa.Column("place", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=32), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_home_visits_case_number", "home_visits", ["case_number"])
    op.create_index("ix_home_visits_village_code", "home_visits", ["village_code"])
    op.create_table(
        "monthly_reports",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("org_code", sa.String(length=18), nullable=False),
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("staff", sa.JSON(), nullable=False),
        sa.Column("complaints", sa.JSON(), nullable=False),
        sa.Column("filed_by", sa.String(length=32), nullable=False),
        sa.Column("filed_by_name", sa.String(length=100), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("org_code", "month"),
    )
    op.create_index("ix_monthly_reports_division_code", "monthly_reports", ["division_code"])
    op.create_table(
        "staff_languages",
        sa.Column("org_code", sa.String(length=18), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("staff_name", sa.String(length=100), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("org_code", "staff_id"),
    )
    with op.batch_alter_table("window_setups", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("languages", sa.JSON(), nullable=False, server_default="[]")
        )
    with op.batch_alter_table("queue_tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("applicant_language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("applicant_language")
    with op.batch_alter_table("queue_tickets", schema=None) as batch_op:
        batch_op.drop_column("language")
    with op.batch_alter_table("window_setups", schema=None) as batch_op:
        batch_op.drop_column("languages")
    op.drop_table("staff_languages")
    op.drop_index("ix_monthly_reports_division_code", table_name="monthly_reports")
    op.drop_table("monthly_reports")
    op.drop_index("ix_home_visits_village_code", table_name="home_visits")
    op.drop_index("ix_home_visits_case_number", table_name="home_visits")
    op.drop_table("home_visits")
    op.drop_index("ix_village_services_village_code", table_name="village_services")
    op.drop_table("village_services")
