"""full-text search over tickets and their comments (PostgreSQL: stored tsvector columns with GIN indexes;
SQLite: FTS5 tables kept by triggers), indexes for the ticket list's filters, the saved views of the ticket list

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 19:00:00
"""

import sqlalchemy as sa
from alembic import op

import app.db
from app.tickets import search_index

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

TRIGRAMS = ("title", "description", "number")  # migration 0013's ILIKE indexes, which full-text search replaces
FILTERED = ("assignee", "service", "ci", "status", "priority")  # each with created_at: a filter, newest first


def upgrade():
    for column in FILTERED:
        op.create_index(f"ix_ticket_{column}_created", "ticket", [column, "created_at"])
    op.execute(f"CREATE INDEX ix_ticket_priority_rank ON ticket (({search_index.PRIORITY_RANK}), created_at DESC, id DESC)")
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for column in TRIGRAMS:
            op.execute(f"DROP INDEX IF EXISTS ix_ticket_{column}_trgm")
    for statement in search_index.build(dialect):
        op.execute(statement)
    op.create_table(
        "saved_view",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(), nullable=False),
        sa.UniqueConstraint("owner", "name", name="uq_saved_view_owner_name"),
    )


def downgrade():
    op.drop_table("saved_view")
    dialect = op.get_bind().dialect.name
    for statement in search_index.POSTGRESQL_DROP if dialect == "postgresql" else search_index.SQLITE_DROP:
        op.execute(statement)
    if dialect == "postgresql":
        for column in TRIGRAMS:
            op.execute(f"CREATE INDEX ix_ticket_{column}_trgm ON ticket USING gin ({column} gin_trgm_ops)")
    op.execute("DROP INDEX ix_ticket_priority_rank")
    for column in FILTERED:
        op.drop_index(f"ix_ticket_{column}_created", "ticket")
