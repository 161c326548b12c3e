"""quality snapshots and quality problems (QUA-1, QUA-2)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import govdata.core.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quality_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("computed_at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("overall", sa.Float(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_quality_snapshots_department_id_departments")
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["catalog_resources.id"],
            name=op.f("fk_quality_snapshots_resource_id_catalog_resources"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_snapshots")),
    )
    with op.batch_alter_table("quality_snapshots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_snapshots_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_quality_snapshots_department_id"), ["department_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_quality_snapshots_resource_id"), ["resource_id"], unique=False)
        batch_op.create_index(
            "ix_quality_snapshots_resource_time", ["resource_id", "computed_at"], unique=False
        )

    op.create_table(
        "quality_problems",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("reporter_department_id", sa.Integer(), nullable=True),
        sa.Column("reporter_user_id", sa.Integer(), nullable=True),
        sa.Column("reporter", sa.String(length=64), nullable=False),
        sa.Column("reporter_name", sa.String(length=100), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("record_key", sa.String(length=200), nullable=True),
        sa.Column("item", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("tracked_deadline_id", sa.Integer(), nullable=True),
        sa.Column("answer_reason", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.String(length=64), nullable=True),
        sa.Column("answered_at", govdata.core.db.UTCDateTime(), nullable=True),
        sa.Column("fixed_note", sa.Text(), nullable=True),
        sa.Column("fixed_by", sa.String(length=64), nullable=True),
        sa.Column("fixed_at", govdata.core.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["departments.id"], name=op.f("fk_quality_problems_provider_id_departments")
        ),
        sa.ForeignKeyConstraint(
            ["reporter_department_id"],
            ["departments.id"],
            name=op.f("fk_quality_problems_reporter_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["reporter_user_id"], ["users.id"], name=op.f("fk_quality_problems_reporter_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["catalog_resources.id"],
            name=op.f("fk_quality_problems_resource_id_catalog_resources"),
        ),
        sa.ForeignKeyConstraint(
            ["tracked_deadline_id"],
            ["deadlines.id"],
            name=op.f("fk_quality_problems_tracked_deadline_id_deadlines"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_problems")),
    )
    with op.batch_alter_table("quality_problems", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_problems_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_problems_provider_id"), ["provider_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_quality_problems_reporter_department_id"), ["reporter_department_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_quality_problems_resource_code"), ["resource_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_quality_problems_resource_id"), ["resource_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_problems_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("quality_problems", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_problems_status"))
        batch_op.drop_index(batch_op.f("ix_quality_problems_resource_id"))
        batch_op.drop_index(batch_op.f("ix_quality_problems_resource_code"))
        batch_op.drop_index(batch_op.f("ix_quality_problems_reporter_department_id"))
        batch_op.drop_index(batch_op.f("ix_quality_problems_provider_id"))
        batch_op.drop_index(batch_op.f("ix_quality_problems_created_at"))
    op.drop_table("quality_problems")
    with op.batch_alter_table("quality_snapshots", schema=None) as batch_op:
        batch_op.drop_index("ix_quality_snapshots_resource_time")
        batch_op.drop_index(batch_op.f("ix_quality_snapshots_resource_id"))
        batch_op.drop_index(batch_op.f("ix_quality_snapshots_department_id"))
        batch_op.drop_index(batch_op.f("ix_quality_snapshots_batch_id"))
    op.drop_table("quality_snapshots")
