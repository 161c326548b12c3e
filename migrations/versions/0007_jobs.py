"""claimed jobs and domain events after commit (core.jobs)

Revision ID: 0007
Revises: 0001
Create Date: 2026-12-04 09:00:00

A branch of its own after the foundation; ``govdata migrate`` upgrades to every head.
"""

from alembic import op
import sqlalchemy as sa
import govdata.core.db


revision = "0007"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "core_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("run_after", govdata.core.db.UTCDateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("lease_until", govdata.core.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.Column("started_at", govdata.core.db.UTCDateTime(), nullable=True),
        sa.Column("finished_at", govdata.core.db.UTCDateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_jobs")),
        sa.UniqueConstraint("key", name=op.f("uq_core_jobs_key")),
    )
    with op.batch_alter_table("core_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_core_jobs_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_core_jobs_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_core_jobs_run_after"), ["run_after"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("core_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_core_jobs_run_after"))
        batch_op.drop_index(batch_op.f("ix_core_jobs_state"))
        batch_op.drop_index(batch_op.f("ix_core_jobs_kind"))
    op.drop_table("core_jobs")
