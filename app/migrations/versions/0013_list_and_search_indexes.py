"""indexes for ticket lists, group queues, open-task inboxes and ticket search at a million tickets; group rows
of a task know whether it is open

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-25 15:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

SEARCHED = ("title", "description", "number")  # what ticket search matches with ILIKE '%word%'


def upgrade():
    # Newest first, with or without a group and status filter (lists are of one kind: incidents, requests).
    op.create_index("ix_ticket_created", "ticket", ["created_at", "id"])
    op.create_index("ix_ticket_kind_group_status_created", "ticket", ["kind", "assignment_group", "status", "created_at"])
    # Inboxes and queues walk open tasks newest first and stop at the page's end.
    op.create_index(
        "ix_human_task_open_created",
        "human_task",
        ["created_at"],
        postgresql_where=sa.text("status = 'open'"),
        sqlite_where=sa.text("status = 'open'"),
    )
    # A group's queue reads the group rows of open tasks only.
    with op.batch_alter_table("human_task_group") as batch_op:
        batch_op.add_column(sa.Column("open", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.execute("UPDATE human_task_group SET open = false WHERE task_id IN (SELECT id FROM human_task WHERE status <> 'open')")
    op.create_index(
        "ix_human_task_group_open",
        "human_task_group",
        ["group_name", "task_id"],
        postgresql_where=sa.text("open"),
        sqlite_where=sa.text("open"),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Trigram indexes let ILIKE '%word%' skip the table scan (pg_trgm is a trusted extension since PG 13).
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for column in SEARCHED:
            op.execute(f"CREATE INDEX ix_ticket_{column}_trgm ON ticket USING gin ({column} gin_trgm_ops)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for column in SEARCHED:
            op.execute(f"DROP INDEX ix_ticket_{column}_trgm")
    op.drop_index("ix_human_task_group_open", "human_task_group")
    with op.batch_alter_table("human_task_group") as batch_op:
        batch_op.drop_column("open")
    op.drop_index("ix_human_task_open_created", "human_task")
    op.drop_index("ix_ticket_kind_group_status_created", "ticket")
    op.drop_index("ix_ticket_created", "ticket")
