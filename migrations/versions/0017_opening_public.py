"""opening, public side (ORG-4, OPN-3, OPN-4, OPN-9): public account profiles, conditional open
applications and their API keys, the access log, open demands and reuses

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-20 12:00:00
"""

import sqlalchemy as sa
from alembic import op

import govdata.core.db

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "open_public_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("verified_at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.Column("created_at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id"),
    )
    op.create_table(
        "open_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("applicant_name", sa.String(length=100), nullable=False),
        sa.Column("dataset_code", sa.String(length=64), nullable=False),
        sa.Column("dataset_name", sa.String(length=200), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("scenario", sa.Text(), nullable=False),
        sa.Column("commitments", sa.Text(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("submitted_at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.Column("deadline_id", sa.Integer(), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("decided_items", sa.JSON(), nullable=True),
        sa.Column("decided_period_end", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_at", govdata.core.db.UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_by_name", sa.String(length=100), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["provider_id"], ["departments.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_open_applications_account_id", "open_applications", ["account_id"])
    op.create_index("ix_open_applications_dataset_code", "open_applications", ["dataset_code"])
    op.create_index("ix_open_applications_provider", "open_applications", ["provider_id", "status"])
    op.create_table(
        "open_api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("hint", sa.String(length=16), nullable=False),
        sa.Column("created_at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", govdata.core.db.UTCDateTime(), nullable=True),
        sa.Column("last_used_at", govdata.core.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["application_id"], ["open_applications.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("digest"),
    )
    op.create_index("ix_open_api_keys_application_id", "open_api_keys", ["application_id"])
    op.create_index("ix_open_api_keys_account_id", "open_api_keys", ["account_id"])
    op.create_table(
        "open_access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("key_id", sa.Integer(), nullable=True),
        sa.Column("dataset_code", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_open_access_log_account_id", "open_access_log", ["account_id"])
    op.create_index("ix_open_access_log_application_id", "open_access_log", ["application_id"])
    op.create_index("ix_open_access_log_dataset", "open_access_log", ["dataset_code", "at"])
    op.create_table(
        "open_demands",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("dataset_code", sa.String(length=64), nullable=True),
        sa.Column("proposer_id", sa.Integer(), nullable=False),
        sa.Column("submitted_at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.Column("deadline_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("answer_dataset_code", sa.String(length=64), nullable=True),
        sa.Column("answered_at", govdata.core.db.UTCDateTime(), nullable=True),
        sa.Column("answered_by", sa.String(length=64), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"]),
        sa.ForeignKeyConstraint(["proposer_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_open_demands_proposer_id", "open_demands", ["proposer_id"])
    op.create_table(
        "open_reuses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("created_at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_open_reuses_account_id", "open_reuses", ["account_id"])
    op.create_table(
        "open_reuse_datasets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reuse_id", sa.Integer(), nullable=False),
        sa.Column("dataset_code", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["reuse_id"], ["open_reuses.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reuse_id", "dataset_code"),
    )
    op.create_index("ix_open_reuse_datasets_reuse_id", "open_reuse_datasets", ["reuse_id"])
    op.create_index("ix_open_reuse_datasets_dataset_code", "open_reuse_datasets", ["dataset_code"])


def downgrade() -> None:
    op.drop_table("open_reuse_datasets")
    op.drop_table("open_reuses")
    op.drop_table("open_demands")
    op.drop_table("open_access_log")
    op.drop_table("open_api_keys")
    op.drop_table("open_applications")
    op.drop_table("open_public_profiles")
