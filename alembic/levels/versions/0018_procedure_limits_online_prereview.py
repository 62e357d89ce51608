"""特殊环节 and 网上预审 under electronic supervision: a special procedure keeps its
basis, due date, exception reason and overdue flag; a case that arrived online keeps
its pre-review clock and the result told to the applicant; a supervision card names
the clock it was issued against (once per case, clock and colour)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 21:10:00.000000
"""

import sqlalchemy as sa
from alembic import op


revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# how SQLite's unnamed unique constraint is named when the table is reflected
SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_N_name)s"}
OLD_UNIQUE = {
    "postgresql": "supervision_cards_case_number_color_key",
    "sqlite": "uq_supervision_cards_case_number_color",
}


def _enum(*values: str, name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=32)


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prereview_due_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("prereview_overdue", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column(
                "prereview_result",
                _enum("PASSED", "INCOMPLETE", name="prereviewresult"),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("prereview_missing", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("prereview_message", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("prereview_by", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("prereview_at", sa.DateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("case_suspensions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("basis", sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column("due_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("yellow_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("exception_reason", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("overdue", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table(
        "supervision_cards", schema=None, naming_convention=SQLITE_NAMES
    ) as batch_op:
        # the clock itself came with the referral deadline (0017)
        batch_op.add_column(
            sa.Column("clock_ref", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.drop_constraint(OLD_UNIQUE[dialect], type_="unique")
        batch_op.create_unique_constraint(
            "uq_supervision_cards_clock", ["case_number", "clock", "clock_ref", "color"]
        )


def downgrade() -> None:
    # the older table holds one card per case and colour (and the handling or referral
    # clock, 0017): a referral and a handling card of one colour cannot both stay
    op.execute(
        "DELETE FROM supervision_cards WHERE clock IN ('SPECIAL_PROCEDURE', 'PRE_REVIEW')"
    )
    with op.batch_alter_table("supervision_cards", schema=None) as batch_op:
        batch_op.drop_constraint("uq_supervision_cards_clock", type_="unique")
        batch_op.drop_column("clock_ref")
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("supervision_cards", schema=None) as batch_op:
        batch_op.create_unique_constraint(OLD_UNIQUE[dialect], ["case_number", "color"])
    with op.batch_alter_table("case_suspensions", schema=None) as batch_op:
        for column in ("overdue", "exception_reason", "yellow_on", "due_on", "basis"):
            batch_op.drop_column(column)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        for column in (
            "prereview_at",
            "prereview_by",
            "prereview_message",
            "prereview_missing",
            "prereview_result",
            "prereview_overdue",
            "prereview_due_on",
        ):
            batch_op.drop_column(column)
