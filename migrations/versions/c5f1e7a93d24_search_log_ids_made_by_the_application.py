"""search log ids made by the application: 64 bits, no database sequence

A search's log entry is written off the request, in batches, so its id is made by the
application (time in microseconds and random bits, services/models/search.py) before the row
exists. SQLite's INTEGER already holds 64 bits; PostgreSQL's columns widen to BIGINT.

Revision ID: c5f1e7a93d24
Revises: c7a91e3f5d20
Create Date: 2026-12-01 21:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c5f1e7a93d24'
down_revision = 'c7a91e3f5d20'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        return
    op.alter_column("search_click", "log_id", type_=sa.BigInteger(), existing_nullable=False)
    op.alter_column(
        "search_log", "id", type_=sa.BigInteger(), existing_nullable=False, server_default=None
    )


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        return
    # Ids made by the application do not fit 32 bits: the log cannot be kept.
    op.execute("DELETE FROM search_log")
    op.alter_column("search_log", "id", type_=sa.Integer(), existing_nullable=False)
    op.alter_column("search_click", "log_id", type_=sa.Integer(), existing_nullable=False)
