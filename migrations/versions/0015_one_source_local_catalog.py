"""one number one source, base library classes, conflict agreements, local catalog entries

Revision ID: 0015
Revises: 0014 (and needs 0005, the libraries)
Create Date: 2026-12-12 09:00:00

* ``library_sources``: the authoritative source of a data element for a subject (CAT-9), beyond the
  fields of the base libraries, which keep theirs in ``library_fields``.
* ``libraries.classification``: the catalog class a base library stands for (101 人口 …); its class-1
  resources are compiled by the library's lead department (AGG-8).
* ``library_conflict_parties``: what each department agreed to in a negotiation (QUA-3).
* ``catalog_resources.local_catalog``: an entry of the region's own 个性化目录 (CAT-6).

``govdata migrate`` upgrades to every head.
"""

import sqlalchemy as sa
from alembic import op

import govdata.core.db

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = "0005"  # the libraries tables (a branch of their own)


def upgrade() -> None:
    op.create_table(
        "library_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("element", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.String(length=32), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("designated_by", sa.String(length=64), nullable=False),
        sa.Column("designated_at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["catalog_resources.id"],
            name=op.f("fk_library_sources_resource_id_catalog_resources"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_sources")),
        sa.UniqueConstraint("element", "subject", name=op.f("uq_library_sources_element")),
    )
    with op.batch_alter_table("library_sources", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_library_sources_resource_id"), ["resource_id"], unique=False)
    with op.batch_alter_table("libraries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("classification", sa.String(length=32), nullable=True))
    with op.batch_alter_table("library_conflict_parties", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agreed_value", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("agreed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("agreed_by_name", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("agreed_at", govdata.core.db.UTCDateTime(), nullable=True))
    with op.batch_alter_table("catalog_resources", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("local_catalog", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("catalog_resources", schema=None) as batch_op:
        batch_op.drop_column("local_catalog")
    with op.batch_alter_table("library_conflict_parties", schema=None) as batch_op:
        batch_op.drop_column("agreed_at")
        batch_op.drop_column("agreed_by_name")
        batch_op.drop_column("agreed_by")
        batch_op.drop_column("agreed_value")
    with op.batch_alter_table("libraries", schema=None) as batch_op:
        batch_op.drop_column("classification")
    with op.batch_alter_table("library_sources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_library_sources_resource_id"))
    op.drop_table("library_sources")
