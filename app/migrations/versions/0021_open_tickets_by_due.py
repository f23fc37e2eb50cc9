"""an index of open tickets by resolution target, for the Breached and At risk views (due first): without it a
million tickets were read to find the open ones

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 03:10:00
"""

from alembic import op

from app.tickets.search_index import OPEN_TICKET

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(f"CREATE INDEX ix_ticket_open_due ON ticket (resolution_due, id) WHERE {OPEN_TICKET}")


def downgrade():
    op.execute("DROP INDEX IF EXISTS ix_ticket_open_due")
