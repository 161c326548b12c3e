"""base libraries and fusion conflicts (AGG-8, CAT-13, QUA-3)

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-25 09:00:00.000000

A branch of its own (the app migrates to every head). The fused rows live in the data store, not here.
"""

import sqlalchemy as sa
from alembic import op

import govdata.core.db

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "libraries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("key_element", sa.String(length=100), nullable=False),
        sa.Column("lead_department_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.Column("built_at", govdata.core.db.UTCDateTime(), nullable=True),
        sa.Column("built_by", sa.String(length=64), nullable=True),
        sa.Column("built_rows", sa.Integer(), nullable=True),
        sa.Column("build_snapshot", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["lead_department_id"],
            ["departments.id"],
            name=op.f("fk_libraries_lead_department_id_departments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_libraries")),
        sa.UniqueConstraint("code", name=op.f("uq_libraries_code")),
    )
    with op.batch_alter_table("libraries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_libraries_lead_department_id"), ["lead_department_id"], unique=False
        )

    op.create_table(
        "library_fields",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("element", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("source_resource_id", sa.Integer(), nullable=True),
        sa.Column("chosen_by", sa.String(length=64), nullable=True),
        sa.Column("chosen_at", govdata.core.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["library_id"],
            ["libraries.id"],
            name=op.f("fk_library_fields_library_id_libraries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_resource_id"],
            ["catalog_resources.id"],
            name=op.f("fk_library_fields_source_resource_id_catalog_resources"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_fields")),
        sa.UniqueConstraint("library_id", "element", name=op.f("uq_library_fields_library_id")),
    )
    with op.batch_alter_table("library_fields", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_library_fields_library_id"), ["library_id"], unique=False)

    op.create_table(
        "library_conflicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("element", sa.String(length=100), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("values_digest", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("detected_at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.Column("tracked_deadline_id", sa.Integer(), nullable=True),
        sa.Column("escalated_by", sa.String(length=64), nullable=True),
        sa.Column("escalated_at", govdata.core.db.UTCDateTime(), nullable=True),
        sa.Column("escalation_reason", sa.Text(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("decided_value", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_by_department_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", govdata.core.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by_department_id"],
            ["departments.id"],
            name=op.f("fk_library_conflicts_decided_by_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["library_id"], ["libraries.id"], name=op.f("fk_library_conflicts_library_id_libraries")
        ),
        sa.ForeignKeyConstraint(
            ["tracked_deadline_id"],
            ["deadlines.id"],
            name=op.f("fk_library_conflicts_tracked_deadline_id_deadlines"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_conflicts")),
        sa.UniqueConstraint(
            "library_id", "key", "element", "values_digest", name=op.f("uq_library_conflicts_library_id")
        ),
    )
    with op.batch_alter_table("library_conflicts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_library_conflicts_key"), ["key"], unique=False)
        batch_op.create_index(batch_op.f("ix_library_conflicts_library_id"), ["library_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_library_conflicts_status"), ["status"], unique=False)

    op.create_table(
        "library_conflict_parties",
        sa.Column("conflict_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conflict_id"],
            ["library_conflicts.id"],
            name=op.f("fk_library_conflict_parties_conflict_id_library_conflicts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_library_conflict_parties_department_id_departments"),
        ),
        sa.PrimaryKeyConstraint("conflict_id", "department_id", name=op.f("pk_library_conflict_parties")),
    )
    with op.batch_alter_table("library_conflict_parties", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_library_conflict_parties_department_id"), ["department_id"], unique=False
        )

    op.create_table(
        "library_conflict_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conflict_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("author_name", sa.String(length=100), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("proposed_value", sa.Text(), nullable=True),
        sa.Column("created_at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conflict_id"],
            ["library_conflicts.id"],
            name=op.f("fk_library_conflict_comments_conflict_id_library_conflicts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_library_conflict_comments_department_id_departments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_conflict_comments")),
    )
    with op.batch_alter_table("library_conflict_comments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_library_conflict_comments_conflict_id"), ["conflict_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("library_conflict_comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_library_conflict_comments_conflict_id"))
    op.drop_table("library_conflict_comments")
    with op.batch_alter_table("library_conflict_parties", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_library_conflict_parties_department_id"))
    op.drop_table("library_conflict_parties")
    with op.batch_alter_table("library_conflicts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_library_conflicts_status"))
        batch_op.drop_index(batch_op.f("ix_library_conflicts_library_id"))
        batch_op.drop_index(batch_op.f("ix_library_conflicts_key"))
    op.drop_table("library_conflicts")
    with op.batch_alter_table("library_fields", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_library_fields_library_id"))
    op.drop_table("library_fields")
    with op.batch_alter_table("libraries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_libraries_lead_department_id"))
    op.drop_table("libraries")
