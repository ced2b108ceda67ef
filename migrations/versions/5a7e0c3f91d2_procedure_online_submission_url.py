"""Procedure: where it is submitted online (online_url)

Revision ID: 5a7e0c3f91d2
Revises: c5a7e3f19d42
Create Date: 2026-12-01 21:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5a7e0c3f91d2'
down_revision = 'c5a7e3f19d42'
branch_labels = None
depends_on = None


def upgrade():
    # Existing procedures have no known address: an empty one, as the model's default.
    with op.batch_alter_table('procedure', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('online_url', sa.String(length=1000), nullable=False, server_default='')
        )


def downgrade():
    with op.batch_alter_table('procedure', schema=None) as batch_op:
        batch_op.drop_column('online_url')
