"""evaluation: scorecard weights per period, manual scores, closed periods (SUP-1, SUP-3); and the
sharing facts the scorecards count fast: the usage log rolled up per China month, and each answered
application's working days (both filled from what is stored)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-31 09:00:00
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

import govdata.core.db
from govdata.core.calendar import WorkingCalendar
from govdata.core.clock import china_date

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "eval_weights",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("measure", sa.String(length=40), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("set_at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eval_weights")),
        sa.UniqueConstraint("period", "measure", name=op.f("uq_eval_weights_period")),
    )
    with op.batch_alter_table("eval_weights", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_eval_weights_period"), ["period"], unique=False)
    op.create_table(
        "eval_manual_scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.String(length=40), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("entered_by", sa.String(length=64), nullable=False),
        sa.Column("entered_at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_eval_manual_scores_department_id_departments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eval_manual_scores")),
        sa.UniqueConstraint(
            "period", "department_id", "indicator", name=op.f("uq_eval_manual_scores_period")
        ),
    )
    with op.batch_alter_table("eval_manual_scores", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_eval_manual_scores_period"), ["period"], unique=False)
    op.create_table(
        "eval_closed_periods",
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("closed_at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.Column("closed_by", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("period", name=op.f("pk_eval_closed_periods")),
    )

    op.create_table(
        "share_usage_months",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "month", "department_id", "side", "outcome", name=op.f("pk_share_usage_months")
        ),
    )
    with op.batch_alter_table("share_applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decided_working_days", sa.Integer(), nullable=True))
    _backfill()
    # covering indexes: the scorecards read a period's facts from them alone (SUP-1)
    op.create_index(
        "ix_share_applications_answers",
        "share_applications",
        [
            "decided_at",
            "provider_id",
            "late",
            "decision",
            "refusal_flagged",
            "decided_working_days",
            "decided_by",
        ],
    )
    op.create_index("ix_agg_batches_applied", "agg_batches", ["resource_id", "status", "mode", "finished_at"])
    op.create_index(
        "ix_catalog_resources_cycles",
        "catalog_resources",
        ["status", "format", "published_at", "provider_id", "update_cycle", "id"],
    )


def _backfill() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        month = "strftime('%Y-%m', at, '+8 hours')"
    else:
        month = "to_char(at + INTERVAL '8 hours', 'YYYY-MM')"
    for side, column in (("provider", "provider_id"), ("consumer", "consumer_department_id")):
        bind.execute(
            sa.text(
                "INSERT INTO share_usage_months (month, department_id, side, outcome, calls) "
                f"SELECT {month}, {column}, '{side}', outcome, count(*) FROM share_usage "
                f"WHERE {column} IS NOT NULL GROUP BY {month}, {column}, outcome"
            )
        )
    calendar = WorkingCalendar.load(Session(bind=bind))
    rows = bind.execute(
        sa.text("SELECT id, submitted_at, decided_at FROM share_applications WHERE decided_at IS NOT NULL")
    ).all()
    updates = [
        {"id": i, "days": max(0, calendar.working_days_between(_day(submitted), _day(decided)))}
        for i, submitted, decided in rows
    ]
    if updates:
        bind.execute(
            sa.text("UPDATE share_applications SET decided_working_days = :days WHERE id = :id"), updates
        )


def _day(value):
    """The China date of a stored naive-UTC instant (SQLite may hand back text)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return china_date(moment.replace(tzinfo=UTC))


def downgrade() -> None:
    op.drop_index("ix_catalog_resources_cycles", "catalog_resources")
    op.drop_index("ix_agg_batches_applied", "agg_batches")
    op.drop_index("ix_share_applications_answers", "share_applications")
    with op.batch_alter_table("share_applications", schema=None) as batch_op:
        batch_op.drop_column("decided_working_days")
    op.drop_table("share_usage_months")
    op.drop_table("eval_closed_periods")
    op.drop_table("eval_manual_scores")
    op.drop_table("eval_weights")
