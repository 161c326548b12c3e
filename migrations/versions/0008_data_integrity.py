"""data integrity: the item columns a batch's source lacked; a catalog revision's data migration

Revision ID: 0008
Revises: 0003
Create Date: 2026-12-10 09:00:00

A branch of its own after aggregation's batches; ``govdata migrate`` upgrades to every head.
"""

from alembic import op
import sqlalchemy as sa


revision = "0008"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agg_batches") as batch:
        batch.add_column(sa.Column("absent_items", sa.JSON(), nullable=True))
    with op.batch_alter_table("catalog_resource_versions") as batch:
        batch.add_column(sa.Column("migration", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("catalog_resource_versions") as batch:
        batch.drop_column("migration")
    with op.batch_alter_table("agg_batches") as batch:
        batch.drop_column("absent_items")
