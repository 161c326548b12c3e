"""supervision: rectification notices (通知整改, SUP-2) and their timelines

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-30 09:00:00
"""

import sqlalchemy as sa
from alembic import op

import govdata.core.db

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = "0010"  # the violations register (a branch of its own)


def upgrade() -> None:
    op.create_table(
        "sup_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("violation_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("deadline_id", sa.Integer(), nullable=False),
        sa.Column("opened_at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.Column("closed_at", govdata.core.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["violation_id"], ["sup_violations.id"], name=op.f("fk_sup_notices_violation_id_sup_violations")
        ),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_sup_notices_department_id_departments")
        ),
        sa.ForeignKeyConstraint(
            ["deadline_id"], ["deadlines.id"], name=op.f("fk_sup_notices_deadline_id_deadlines")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sup_notices")),
        sa.UniqueConstraint("violation_id", name=op.f("uq_sup_notices_violation_id")),
    )
    with op.batch_alter_table("sup_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sup_notices_department_id"), ["department_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sup_notices_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_sup_notices_opened_at"), ["opened_at"], unique=False)
    op.create_table(
        "sup_notice_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["sup_notices.id"], name=op.f("fk_sup_notice_events_notice_id_sup_notices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sup_notice_events")),
    )
    with op.batch_alter_table("sup_notice_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sup_notice_events_notice_id"), ["notice_id"], unique=False)


def downgrade() -> None:
    op.drop_table("sup_notice_events")
    op.drop_table("sup_notices")
