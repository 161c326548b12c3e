"""scheduled database pulls (AGG-2)

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-25 09:00:00

A branch of its own after the batches (0003); ``govdata migrate`` upgrades to every head.
"""

from alembic import op
import sqlalchemy as sa
import govdata.core.db


revision = "0006"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agg_pulls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("url_encrypted", sa.Text(), nullable=False),
        sa.Column("url_masked", sa.String(length=1000), nullable=False),
        sa.Column("dialect", sa.String(length=32), nullable=False),
        sa.Column("table_name", sa.String(length=300), nullable=True),
        sa.Column("query", sa.Text(), nullable=True),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("watermark_column", sa.String(length=128), nullable=True),
        sa.Column("schedule", sa.String(length=100), nullable=False),
        sa.Column("window_start", sa.String(length=5), nullable=True),
        sa.Column("window_end", sa.String(length=5), nullable=True),
        sa.Column("max_rows_per_second", sa.Integer(), nullable=True),
        sa.Column("timeout_seconds", sa.Integer(), nullable=False),
        sa.Column("batch_mode", sa.String(length=16), nullable=False),
        sa.Column("policy", sa.String(length=16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("watermark", sa.Text(), nullable=True),
        sa.Column("lease_until", govdata.core.db.UTCDateTime(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_agg_pulls_department_id_departments")
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"], ["catalog_resources.id"], name=op.f("fk_agg_pulls_resource_id_catalog_resources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agg_pulls")),
    )
    with op.batch_alter_table("agg_pulls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agg_pulls_department_id"), ["department_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_agg_pulls_enabled"), ["enabled"], unique=False)
        batch_op.create_index(batch_op.f("ix_agg_pulls_resource_code"), ["resource_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_agg_pulls_resource_id"), ["resource_id"], unique=False)

    op.create_table(
        "agg_pull_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pull_id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("started_by", sa.String(length=64), nullable=False),
        sa.Column("started_at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.Column("finished_at", govdata.core.db.UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("watermark_from", sa.Text(), nullable=True),
        sa.Column("watermark_to", sa.Text(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["agg_batches.id"], name=op.f("fk_agg_pull_runs_batch_id_agg_batches")),
        sa.ForeignKeyConstraint(["pull_id"], ["agg_pulls.id"], name=op.f("fk_agg_pull_runs_pull_id_agg_pulls")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agg_pull_runs")),
    )
    with op.batch_alter_table("agg_pull_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agg_pull_runs_outcome"), ["outcome"], unique=False)
        batch_op.create_index(batch_op.f("ix_agg_pull_runs_pull_id"), ["pull_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_agg_pull_runs_started_at"), ["started_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("agg_pull_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agg_pull_runs_started_at"))
        batch_op.drop_index(batch_op.f("ix_agg_pull_runs_pull_id"))
        batch_op.drop_index(batch_op.f("ix_agg_pull_runs_outcome"))
    op.drop_table("agg_pull_runs")
    with op.batch_alter_table("agg_pulls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agg_pulls_resource_id"))
        batch_op.drop_index(batch_op.f("ix_agg_pulls_resource_code"))
        batch_op.drop_index(batch_op.f("ix_agg_pulls_enabled"))
        batch_op.drop_index(batch_op.f("ix_agg_pulls_department_id"))
    op.drop_table("agg_pulls")
