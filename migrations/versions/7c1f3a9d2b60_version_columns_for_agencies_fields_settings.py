"""Version columns for agencies, lĩnh vực and the site settings

Optimistic locking as for procedures: a version column each, checked by every UPDATE, in place
of comparing fingerprints of their records.

Revision ID: 7c1f3a9d2b60
Revises: e9bfc85bba5f
Create Date: 2026-12-01 17:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c1f3a9d2b60'
down_revision = 'e9bfc85bba5f'
branch_labels = None
depends_on = None

TABLES = ('agency', 'field', 'site_settings')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column('version', sa.Integer(), nullable=False, server_default='1')
            )


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('version')
