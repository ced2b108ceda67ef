"""english name and summary of procedures, agencies and lĩnh vực

Staff write an English name and summary for foreign investors; "" means not translated (pages
then show the Vietnamese, marked as such). Existing rows get "".

Revision ID: f3a8d2c6b1e4
Revises: a3d8f0c2b614
Create Date: 2026-12-01 23:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'f3a8d2c6b1e4'
down_revision = 'a3d8f0c2b614'
branch_labels = None
depends_on = None

TABLES = {"procedure": sa.Text(), "agency": sa.String(length=300), "field": sa.String(length=300)}


# Not in batch mode: on SQLite that copies each table and drops the old one, and dropping
# `procedure` or `agency` with foreign keys on deletes every row that cascades from it
# (revisions, steps, links...). SQLite adds a column, and from 3.35 drops one, in place.


def upgrade():
    for table, name_type in TABLES.items():
        op.add_column(table, sa.Column("name_en", name_type, nullable=False, server_default=""))
        op.add_column(table, sa.Column("summary_en", sa.Text(), nullable=False, server_default=""))


def downgrade():
    for table in TABLES:
        op.drop_column(table, "summary_en")
        op.drop_column(table, "name_en")
