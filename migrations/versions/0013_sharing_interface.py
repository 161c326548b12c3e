"""sharing: interface services (接口访问), subscriptions and their deliveries

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 10:00:00
"""

import sqlalchemy as sa
from alembic import op

import govdata.core.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "share_interfaces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("base_url", sa.String(length=2000), nullable=False),
        sa.Column("secret_header", sa.String(length=100), nullable=False),
        sa.Column("secret_sealed", sa.Text(), nullable=False),
        sa.Column("timeout_seconds", sa.Float(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["departments.id"], name=op.f("fk_share_interfaces_provider_id_departments")
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["catalog_resources.id"],
            name=op.f("fk_share_interfaces_resource_id_catalog_resources"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_interfaces")),
        sa.UniqueConstraint("resource_id", name=op.f("uq_share_interfaces_resource_id")),
    )
    with op.batch_alter_table("share_interfaces", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_share_interfaces_provider_id"), ["provider_id"], unique=False)

    op.create_table(
        "share_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("resource_name", sa.String(length=200), nullable=False),
        sa.Column("consumer_department_id", sa.Integer(), nullable=False),
        sa.Column("system_id", sa.Integer(), nullable=False),
        sa.Column("webhook_url", sa.String(length=2000), nullable=True),
        sa.Column("platform_url", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.Column("ended_by", sa.String(length=64), nullable=True),
        sa.Column("ended_at", govdata.core.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["consumer_department_id"],
            ["departments.id"],
            name=op.f("fk_share_subscriptions_consumer_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["grant_id"], ["share_grants.id"], name=op.f("fk_share_subscriptions_grant_id_share_grants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_subscriptions")),
    )
    with op.batch_alter_table("share_subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_share_subscriptions_consumer_department_id"), ["consumer_department_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_share_subscriptions_grant_id"), ["grant_id"], unique=False)
        batch_op.create_index("ix_share_subscriptions_resource", ["resource_id", "status"], unique=False)

    op.create_table(
        "share_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("webhook_url", sa.String(length=2000), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_attempt_at", govdata.core.db.UTCDateTime(), nullable=True),
        sa.Column("next_attempt_at", govdata.core.db.UTCDateTime(), nullable=True),
        sa.Column("delivered_at", govdata.core.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["share_subscriptions.id"],
            name=op.f("fk_share_deliveries_subscription_id_share_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_deliveries")),
        sa.UniqueConstraint("subscription_id", "batch_id", name="uq_share_deliveries_batch"),
    )
    with op.batch_alter_table("share_deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_share_deliveries_grant_id"), ["grant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_share_deliveries_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_share_deliveries_subscription_id"), ["subscription_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("share_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_share_deliveries_subscription_id"))
        batch_op.drop_index(batch_op.f("ix_share_deliveries_status"))
        batch_op.drop_index(batch_op.f("ix_share_deliveries_grant_id"))
    op.drop_table("share_deliveries")
    with op.batch_alter_table("share_subscriptions", schema=None) as batch_op:
        batch_op.drop_index("ix_share_subscriptions_resource")
        batch_op.drop_index(batch_op.f("ix_share_subscriptions_grant_id"))
        batch_op.drop_index(batch_op.f("ix_share_subscriptions_consumer_department_id"))
    op.drop_table("share_subscriptions")
    with op.batch_alter_table("share_interfaces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_share_interfaces_provider_id"))
    op.drop_table("share_interfaces")
