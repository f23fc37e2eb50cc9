"""catalog items list the fulfilment tasks worked in parallel; tickets keep the moment 75 % of the SLA is used

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 12:40:00
"""

import sqlalchemy as sa
from alembic import op

import app.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("catalog_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fulfilment_tasks", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sla_warning_due", app.db.UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_column("sla_warning_due")
    with op.batch_alter_table("catalog_item", schema=None) as batch_op:
        batch_op.drop_column("fulfilment_tasks")
