"""supervision: the violations register (SUP-2)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-15 09:30:00
"""

import sqlalchemy as sa
from alembic import op

import govdata.core.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sup_violations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("object_type", sa.String(length=64), nullable=False),
        sa.Column("object_id", sa.String(length=128), nullable=False),
        sa.Column("detected_at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("contest_reason", sa.Text(), nullable=True),
        sa.Column("contested_by", sa.String(length=64), nullable=True),
        sa.Column("contested_at", govdata.core.db.UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", govdata.core.db.UTCDateTime(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_sup_violations_department_id_departments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sup_violations")),
        sa.UniqueConstraint("kind", "object_type", "object_id", name=op.f("uq_sup_violations_kind")),
    )
    with op.batch_alter_table("sup_violations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sup_violations_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_sup_violations_department_id"), ["department_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sup_violations_detected_at"), ["detected_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_sup_violations_status"), ["status"], unique=False)


def downgrade() -> None:
    op.drop_table("sup_violations")
