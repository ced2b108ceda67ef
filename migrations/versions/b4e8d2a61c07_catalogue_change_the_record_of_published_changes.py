"""Catalogue change: the record of published changes (feeds, the change list)

Revision ID: b4e8d2a61c07
Revises: dd7dc5f05929
Create Date: 2026-12-01 20:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b4e8d2a61c07'
down_revision = 'dd7dc5f05929'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('catalogue_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('code', sa.String(length=50), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('agencies', sa.Text(), nullable=False),
    sa.Column('fields', sa.Text(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('record', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_change'))
    )
    with op.batch_alter_table('catalogue_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalogue_change_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalogue_change_code'), ['code'], unique=False)


def downgrade():
    with op.batch_alter_table('catalogue_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalogue_change_code'))
        batch_op.drop_index(batch_op.f('ix_catalogue_change_at'))

    op.drop_table('catalogue_change')
