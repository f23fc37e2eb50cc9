"""Sign-in throttling per client address and per account replaces the account lock; a session epoch per user
ends sessions at sign-out and deactivation.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 16:00:00
"""

import sqlalchemy as sa
from alembic import op

import app.db

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sign_in_throttle",
        sa.Column("key", sa.String(length=200), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", app.db.UTCDateTime(), nullable=False),
        sa.Column("blocked_until", app.db.UTCDateTime(), nullable=True),
    )
    op.create_index("ix_sign_in_throttle_last_failure_at", "sign_in_throttle", ["last_failure_at"])
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0"))
        batch_op.drop_column("failed_logins")
        batch_op.drop_column("locked_until")


def downgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locked_until", app.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch_op.drop_column("session_epoch")
    op.drop_index("ix_sign_in_throttle_last_failure_at", table_name="sign_in_throttle")
    op.drop_table("sign_in_throttle")
