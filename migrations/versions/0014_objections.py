"""objections (COR-1 … COR-4): objections under review and their evidence

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 12:00:00
"""

import sqlalchemy as sa
from alembic import op

import govdata.core.db

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "objections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("resource_name", sa.String(length=200), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("record_key", sa.String(length=500), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("original", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("filer_kind", sa.String(length=20), nullable=False),
        sa.Column("filer_username", sa.String(length=64), nullable=True),
        sa.Column("filer_user_id", sa.Integer(), nullable=True),
        sa.Column("filer_name", sa.String(length=200), nullable=False),
        sa.Column("filer_department_id", sa.Integer(), nullable=True),
        sa.Column("filer_identity_kind", sa.String(length=40), nullable=True),
        sa.Column("filer_contact", sa.String(length=200), nullable=True),
        sa.Column("entered_by", sa.String(length=64), nullable=True),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("filed_at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("deadline_id", sa.Integer(), nullable=True),
        sa.Column("original_deadline_id", sa.Integer(), nullable=True),
        sa.Column("extension_requested_at", govdata.core.db.UTCDateTime(), nullable=True),
        sa.Column("extension_requested_by", sa.String(length=64), nullable=True),
        sa.Column("extension_requested_by_name", sa.String(length=100), nullable=True),
        sa.Column("extension_request_reason", sa.Text(), nullable=True),
        sa.Column("extension_request_days", sa.Integer(), nullable=True),
        sa.Column("extended", sa.Boolean(), nullable=False),
        sa.Column("extended_at", govdata.core.db.UTCDateTime(), nullable=True),
        sa.Column("extended_by", sa.String(length=64), nullable=True),
        sa.Column("extended_by_name", sa.String(length=100), nullable=True),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("extension_days", sa.Integer(), nullable=True),
        sa.Column("escalated_at", govdata.core.db.UTCDateTime(), nullable=True),
        sa.Column("correction_batch_id", sa.Integer(), nullable=True),
        sa.Column("correction_values", sa.JSON(), nullable=True),
        sa.Column("correction_error", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("resolved_at", govdata.core.db.UTCDateTime(), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("resolved_by_name", sa.String(length=100), nullable=True),
        sa.Column("resolution_reason", sa.Text(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deadline_id"], ["deadlines.id"], name=op.f("fk_objections_deadline_id_deadlines")
        ),
        sa.ForeignKeyConstraint(
            ["filer_department_id"],
            ["departments.id"],
            name=op.f("fk_objections_filer_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["original_deadline_id"],
            ["deadlines.id"],
            name=op.f("fk_objections_original_deadline_id_deadlines"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["departments.id"], name=op.f("fk_objections_provider_id_departments")
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["catalog_resources.id"],
            name=op.f("fk_objections_resource_id_catalog_resources"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objections")),
    )
    with op.batch_alter_table("objections", schema=None) as batch_op:
        batch_op.create_index("ix_objections_filer", ["filer_department_id", "status"], unique=False)
        batch_op.create_index("ix_objections_open", ["status", "resource_id"], unique=False)
        batch_op.create_index("ix_objections_provider", ["provider_id", "status"], unique=False)

    op.create_table(
        "objection_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("objection_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("stored_as", sa.String(length=255), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["objection_id"], ["objections.id"], name=op.f("fk_objection_attachments_objection_id_objections")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objection_attachments")),
    )
    with op.batch_alter_table("objection_attachments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_objection_attachments_objection_id"), ["objection_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("objection_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_objection_attachments_objection_id"))

    op.drop_table("objection_attachments")
    with op.batch_alter_table("objections", schema=None) as batch_op:
        batch_op.drop_index("ix_objections_provider")
        batch_op.drop_index("ix_objections_open")
        batch_op.drop_index("ix_objections_filer")

    op.drop_table("objections")
