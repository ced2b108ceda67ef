"""english name and summary of procedures, agencies and lĩnh vực

Staff write an English name and summary for foreign investors; "" means not translated (pages
then show the Vietnamese, marked as such). Existing rows get "".

Revision ID: f3a8d2c6b1e4
Revises: c5f1e7a93d24
Create Date: 2026-12-01 23:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'f3a8d2c6b1e4'
down_revision = 'c5f1e7a93d24'
branch_labels = None
depends_on = None

TABLES = {"procedure": sa.Text(), "agency": sa.String(length=300), "field": sa.String(length=300)}


def upgrade():
    for table, name_type in TABLES.items():
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("name_en", name_type, nullable=False, server_default=""))
            batch.add_column(sa.Column("summary_en", sa.Text(), nullable=False, server_default=""))


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("summary_en")
            batch.drop_column("name_en")
