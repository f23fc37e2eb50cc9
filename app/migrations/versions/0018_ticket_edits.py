"""Editing, cancelling and linking tickets: a version counter for concurrent edits, the original a duplicate
points to, and when and why a ticket was cancelled.

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-03 18:40:00
"""

import sqlalchemy as sa
from alembic import op

import app.db

revision = "0018"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("duplicate_of", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("cancelled_at", app.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("cancel_reason", sa.Text(), nullable=True))
        batch_op.create_index("ix_ticket_parent_number", ["parent_number"])
        batch_op.create_index("ix_ticket_duplicate_of", ["duplicate_of"])


def downgrade():
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_duplicate_of")
        batch_op.drop_index("ix_ticket_parent_number")
        batch_op.drop_column("cancel_reason")
        batch_op.drop_column("cancelled_at")
        batch_op.drop_column("duplicate_of")
        batch_op.drop_column("version")
