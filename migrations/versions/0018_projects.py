"""information projects (PRJ-1, PRJ-2): projects with their pre-compiled catalog, acceptance reports

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-28 12:00:00
"""

import sqlalchemy as sa
from alembic import op

import govdata.core.db

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "prj_projects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("budget", sa.Float(), nullable=True),
        sa.Column("builds_own_platform", sa.Boolean(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("resources", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("filed_by", sa.String(length=64), nullable=False),
        sa.Column("filed_at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=True),
        sa.Column("reviewed_by", sa.String(length=64), nullable=True),
        sa.Column("reviewed_at", govdata.core.db.UTCDateTime(), nullable=True),
        sa.Column("review_reason", sa.Text(), nullable=True),
        sa.Column("not_funded", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_prj_projects_department_id_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prj_projects")),
    )
    op.create_index(op.f("ix_prj_projects_department_id"), "prj_projects", ["department_id"])
    op.create_index(op.f("ix_prj_projects_status"), "prj_projects", ["status"])
    op.create_index(op.f("ix_prj_projects_filed_at"), "prj_projects", ["filed_at"])
    op.create_table(
        "prj_acceptances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("acceptor", sa.String(length=32), nullable=False),
        sa.Column("accepted_by", sa.String(length=64), nullable=False),
        sa.Column("at", govdata.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["prj_projects.id"], name=op.f("fk_prj_acceptances_project_id_prj_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prj_acceptances")),
    )
    op.create_index(op.f("ix_prj_acceptances_project_id"), "prj_acceptances", ["project_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_prj_acceptances_project_id"), table_name="prj_acceptances")
    op.drop_table("prj_acceptances")
    op.drop_index(op.f("ix_prj_projects_filed_at"), table_name="prj_projects")
    op.drop_index(op.f("ix_prj_projects_status"), table_name="prj_projects")
    op.drop_index(op.f("ix_prj_projects_department_id"), table_name="prj_projects")
    op.drop_table("prj_projects")
