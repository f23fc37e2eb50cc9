"""SLA clock (paused time, hold, warning and breach moments) and major incidents on tickets

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 12:10:00
"""

import sqlalchemy as sa
from alembic import op

import app.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("major_incident", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("sla_paused_seconds", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("sla_held_since", app.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("sla_warned_at", app.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("sla_breached_at", app.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("major_instance_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_ticket_major_instance", "process_instance", ["major_instance_id"], ["id"])


def downgrade():
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_constraint("fk_ticket_major_instance", type_="foreignkey")
        for column in ("major_instance_id", "sla_breached_at", "sla_warned_at", "sla_held_since", "sla_paused_seconds", "major_incident"):
            batch_op.drop_column(column)
