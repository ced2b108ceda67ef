"""the search indexes follow a numbered change log instead of deleting pending rows

Several app servers, each with its own index, may share one database: each index applies the
log from its own high-water mark. Changes still pending are carried over as the first entries
of the log (an index made before the log has no mark and applies all of it).

Revision ID: f3a8c61d2b47
Revises: c5f1e7a93d24
Create Date: 2026-12-01 23:40:00

"""
import secrets

from alembic import op
import sqlalchemy as sa


revision = 'f3a8c61d2b47'
down_revision = 'c5f1e7a93d24'
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "search_change",
        sa.Column("seq", BIG, autoincrement=False, nullable=False),
        sa.Column("procedure_id", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_search_change")),
    )
    op.create_table(
        "search_change_counter",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", BIG, nullable=False),
        sa.Column("pruned_through", BIG, nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_change_counter")),
    )
    op.create_table(
        "search_index_mark",
        sa.Column("node", sa.String(length=200), nullable=False),
        sa.Column("mark", BIG, nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("node", name=op.f("pk_search_index_mark")),
    )
    pending = [
        row.procedure_id
        for row in op.get_bind().execute(
            sa.text("SELECT procedure_id FROM search_pending ORDER BY id")
        )
    ]
    if pending:
        op.get_bind().execute(
            sa.text(
                "INSERT INTO search_change (seq, procedure_id, changed_at) "
                "VALUES (:seq, :procedure_id, CURRENT_TIMESTAMP)"
            ),
            [{"seq": n, "procedure_id": p} for n, p in enumerate(pending, start=1)],
        )
    op.get_bind().execute(
        sa.text(
            "INSERT INTO search_change_counter (id, last, pruned_through, token) "
            "VALUES (1, :last, 0, :token)"
        ),
        {"last": len(pending), "token": secrets.token_hex(16)},
    )
    op.drop_table("search_pending")


def downgrade():
    op.create_table(
        "search_pending",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("procedure_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_pending")),
    )
    # Every change of the log is taken as still pending: writing a document twice does no harm.
    op.execute(
        "INSERT INTO search_pending (procedure_id) SELECT procedure_id FROM search_change "
        "ORDER BY seq"
    )
    op.drop_table("search_index_mark")
    op.drop_table("search_change_counter")
    op.drop_table("search_change")
