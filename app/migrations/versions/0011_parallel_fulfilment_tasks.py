"""catalog items list the fulfilment tasks worked in parallel

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 12:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("catalog_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fulfilment_tasks", sa.JSON(), nullable=False, server_default="[]"))


def downgrade():
    with op.batch_alter_table("catalog_item", schema=None) as batch_op:
        batch_op.drop_column("fulfilment_tasks")
