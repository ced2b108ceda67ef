"""journeys: ordered steps through procedures, composed by staff

A journey (hành trình) is a list of steps, each naming one or more procedures by code (all of
them, or any one), optional or not, with a note; the English columns are filled by staff.

Revision ID: a3d8f0c2b614
Revises: f3a8c61d2b47
Create Date: 2026-12-01 23:30:00

"""

from alembic import op
import sqlalchemy as sa


revision = "a3d8f0c2b614"
down_revision = "f3a8c61d2b47"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "journey",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("name_en", sa.String(length=300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("summary_en", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journey")),
        sa.UniqueConstraint("slug", name=op.f("uq_journey_slug")),
    )
    op.create_table(
        "journey_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("journey_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("title_en", sa.String(length=300), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("note_en", sa.Text(), nullable=False),
        sa.Column("optional", sa.Boolean(), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["journey_id"],
            ["journey.id"],
            name=op.f("fk_journey_step_journey_id_journey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journey_step")),
    )
    op.create_index(op.f("ix_journey_step_journey_id"), "journey_step", ["journey_id"])
    op.create_table(
        "journey_step_procedure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.ForeignKeyConstraint(
            ["step_id"],
            ["journey_step.id"],
            name=op.f("fk_journey_step_procedure_step_id_journey_step"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journey_step_procedure")),
    )
    op.create_index(
        op.f("ix_journey_step_procedure_step_id"), "journey_step_procedure", ["step_id"]
    )
    op.create_index(op.f("ix_journey_step_procedure_code"), "journey_step_procedure", ["code"])


def downgrade():
    op.drop_index(op.f("ix_journey_step_procedure_code"), table_name="journey_step_procedure")
    op.drop_index(op.f("ix_journey_step_procedure_step_id"), table_name="journey_step_procedure")
    op.drop_table("journey_step_procedure")
    op.drop_index(op.f("ix_journey_step_journey_id"), table_name="journey_step")
    op.drop_table("journey_step")
    op.drop_table("journey")
