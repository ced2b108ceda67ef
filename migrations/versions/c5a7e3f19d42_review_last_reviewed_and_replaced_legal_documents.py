"""Review: when each procedure was last reviewed, and the legal documents marked as replaced

Existing procedures start from their last publication (the newest "published" revision) or,
without one, from their last update (`updated_at`, the source's date for imported ones): the
stale list then shows at once what nobody has looked at for the configured period.

Revision ID: c5a7e3f19d42
Revises: b4e8d2a61c07
Create Date: 2026-12-01 21:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c5a7e3f19d42'
down_revision = 'b4e8d2a61c07'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('procedure', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_reviewed_at', sa.DateTime(), nullable=True))
        batch_op.create_index(
            batch_op.f('ix_procedure_last_reviewed_at'), ['last_reviewed_at'], unique=False
        )
    procedure = sa.table(
        'procedure', sa.column('id'), sa.column('updated_at'), sa.column('last_reviewed_at')
    )
    revision_table = sa.table(
        'procedure_revision', sa.column('procedure_id'), sa.column('action'),
        sa.column('created_at'),
    )
    last_published = (
        sa.select(sa.func.max(revision_table.c.created_at))
        .where(
            revision_table.c.procedure_id == procedure.c.id,
            revision_table.c.action == 'published',
        )
        .scalar_subquery()
    )
    op.execute(
        procedure.update().values(
            last_reviewed_at=sa.func.coalesce(last_published, procedure.c.updated_at)
        )
    )
    op.create_table('replaced_legal_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('number', sa.String(length=200), nullable=False),
    sa.Column('replaced_at', sa.DateTime(), nullable=False),
    sa.Column('replaced_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['replaced_by_id'], ['staff_user.id'], name=op.f('fk_replaced_legal_document_replaced_by_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_replaced_legal_document')),
    sa.UniqueConstraint('key', name=op.f('uq_replaced_legal_document_key'))
    )


def downgrade():
    op.drop_table('replaced_legal_document')
    op.drop_index(op.f('ix_procedure_last_reviewed_at'), table_name='procedure')
    # Not in batch mode: on SQLite that copies the table and drops the old one, and dropping
    # `procedure` with foreign keys on deletes every row that cascades from it (revisions,
    # steps, legal bases...). SQLite 3.35+ drops a column in place.
    op.drop_column('procedure', 'last_reviewed_at')
