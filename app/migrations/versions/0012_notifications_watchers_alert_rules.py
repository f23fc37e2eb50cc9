"""in-app notifications, ticket watchers, and the alert label rules admins edit (with their defaults)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25 12:20:00
"""

import sqlalchemy as sa
from alembic import op

import app.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

DEFAULT_RULES = [
    # label, match, field, value
    ("severity", "critical", "impact", "high"),
    ("severity", "critical", "urgency", "high"),
    ("severity", "major", "impact", "high"),
    ("severity", "major", "urgency", "medium"),
    ("severity", "warning", "impact", "medium"),
    ("severity", "warning", "urgency", "medium"),
    ("severity", "minor", "impact", "low"),
    ("severity", "minor", "urgency", "medium"),
    ("severity", "info", "impact", "low"),
    ("severity", "info", "urgency", "low"),
    ("service", "*", "service", ""),
    ("instance", "*", "ci", ""),
    ("category", "*", "category", ""),
]


def upgrade():
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("ticket", sa.String(20), nullable=True),
        sa.Column("text", sa.String(300), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(), nullable=False),
        sa.Column("read_at", app.db.UTCDateTime(), nullable=True),
        sa.Column("key", sa.String(200), nullable=True, unique=True),
    )
    op.create_index("ix_notification_username", "notification", ["username"])
    op.create_table(
        "ticket_watcher",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("ticket.id", ondelete="CASCADE"), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("since", app.db.UTCDateTime(), nullable=False),
        sa.UniqueConstraint("ticket_id", "username", name="uq_ticket_watcher"),
    )
    op.create_index("ix_ticket_watcher_ticket_id", "ticket_watcher", ["ticket_id"])
    rules = op.create_table(
        "alert_rule",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("match", sa.String(200), nullable=False),
        sa.Column("field", sa.String(20), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
    )
    op.bulk_insert(
        rules,
        [
            {"position": i, "label": label, "match": match, "field": field, "value": value}
            for i, (label, match, field, value) in enumerate(DEFAULT_RULES)
        ],
    )


def downgrade():
    op.drop_table("alert_rule")
    op.drop_index("ix_ticket_watcher_ticket_id", table_name="ticket_watcher")
    op.drop_table("ticket_watcher")
    op.drop_index("ix_notification_username", table_name="notification")
    op.drop_table("notification")
