"""opening (OPN-1, OPN-5, OPN-6): the open catalog and its de-identification plans, confidentiality
reviews, the yearly priority list, the use log of open datasets

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-20 09:00:00
"""

import sqlalchemy as sa
from alembic import op

import govdata.core.db

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "open_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("open_type", sa.String(length=16), nullable=True),
        sa.Column("basis", sa.String(length=16), nullable=True),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("quasi_identifiers", sa.JSON(), nullable=False),
        sa.Column("non_open_reason", sa.String(length=32), nullable=True),
        sa.Column("non_open_note", sa.Text(), nullable=True),
        sa.Column("consent_holder", sa.String(length=200), nullable=True),
        sa.Column("consent_date", sa.Date(), nullable=True),
        sa.Column("consent_document", sa.String(length=500), nullable=True),
        sa.Column("consent_recorded_by", sa.String(length=64), nullable=True),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        sa.Column("incident_category", sa.String(length=32), nullable=True),
        sa.Column("incident_title", sa.String(length=200), nullable=True),
        sa.Column("k_checked", sa.Integer(), nullable=True),
        sa.Column("prepared_by", sa.String(length=64), nullable=True),
        sa.Column("prepared_at", govdata.core.db.UTCDateTime(), nullable=True),
        sa.Column("published_at", govdata.core.db.UTCDateTime(), nullable=True),
        sa.Column("published_by", sa.String(length=64), nullable=True),
        sa.Column("withdrawn_at", govdata.core.db.UTCDateTime(), nullable=True),
        sa.Column("withdrawn_by", sa.String(length=64), nullable=True),
        sa.Column("withdraw_reason", sa.Text(), nullable=True),
        sa.Column("downloads", sa.Integer(), nullable=False),
        sa.Column("api_calls", sa.Integer(), nullable=False),
        sa.Column("created_at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["departments.id"], name=op.f("fk_open_entries_provider_id_departments")
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["catalog_resources.id"],
            name=op.f("fk_open_entries_resource_id_catalog_resources"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open_entries")),
        sa.UniqueConstraint("resource_code", name=op.f("uq_open_entries_resource_code")),
        sa.UniqueConstraint("resource_id", name=op.f("uq_open_entries_resource_id")),
    )
    with op.batch_alter_table("open_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_open_entries_provider_id"), ["provider_id"], unique=False)
        batch_op.create_index("ix_open_entries_status", ["status", "emergency"], unique=False)

    op.create_table(
        "open_priorities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["catalog_resources.id"],
            name=op.f("fk_open_priorities_resource_id_catalog_resources"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open_priorities")),
    )
    with op.batch_alter_table("open_priorities", schema=None) as batch_op:
        batch_op.create_index("ix_open_priorities_year", ["year"], unique=False)

    op.create_table(
        "open_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("reviewer", sa.String(length=64), nullable=False),
        sa.Column("reviewer_name", sa.String(length=100), nullable=False),
        sa.Column("reviewed_at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.Column("conclusion", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["open_entries.id"], name=op.f("fk_open_reviews_entry_id_open_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open_reviews")),
    )
    with op.batch_alter_table("open_reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_open_reviews_entry_id"), ["entry_id"], unique=False)

    op.create_table(
        "open_uses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["open_entries.id"], name=op.f("fk_open_uses_entry_id_open_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open_uses")),
    )
    with op.batch_alter_table("open_uses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_open_uses_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_open_uses_application_id"), ["application_id"], unique=False)
        batch_op.create_index("ix_open_uses_entry", ["entry_id", "kind"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("open_uses", schema=None) as batch_op:
        batch_op.drop_index("ix_open_uses_entry")
        batch_op.drop_index(batch_op.f("ix_open_uses_application_id"))
        batch_op.drop_index(batch_op.f("ix_open_uses_account_id"))

    op.drop_table("open_uses")
    with op.batch_alter_table("open_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_open_reviews_entry_id"))

    op.drop_table("open_reviews")
    with op.batch_alter_table("open_priorities", schema=None) as batch_op:
        batch_op.drop_index("ix_open_priorities_year")

    op.drop_table("open_priorities")
    with op.batch_alter_table("open_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_open_entries_status")
        batch_op.drop_index(batch_op.f("ix_open_entries_provider_id"))

    op.drop_table("open_entries")
