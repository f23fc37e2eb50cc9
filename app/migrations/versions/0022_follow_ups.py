"""a follow-up incident names the closed ticket it follows up ("it broke again")

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 13:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE (no batch copy of the table): SQLite adds a nullable column in place.
    op.add_column("ticket", sa.Column("follow_up_of", sa.String(length=20), nullable=True))
    op.create_index("ix_ticket_follow_up_of", "ticket", ["follow_up_of"])


def downgrade():
    op.drop_index("ix_ticket_follow_up_of", table_name="ticket")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_column("follow_up_of")
