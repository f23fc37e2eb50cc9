"""attachments on tickets: their rows (name, size, detected type, sha256, visibility, author) and the database
store of their bytes, one blob per distinct content

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 03:00:00
"""

import sqlalchemy as sa
from alembic import op

import app.db

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "attachment_blob",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name="pk_attachment_blob"),
    )
    op.create_table(
        "ticket_attachment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(127), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("visibility", sa.String(10), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("at", app.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name="fk_ticket_attachment_ticket_id_ticket", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["ticket_comment.id"],
            name="fk_ticket_attachment_comment_id_ticket_comment",
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_ticket_attachment_ticket_id", "ticket_attachment", ["ticket_id"])
    op.create_index("ix_ticket_attachment_sha256", "ticket_attachment", ["sha256"])


def downgrade():
    op.drop_index("ix_ticket_attachment_sha256", table_name="ticket_attachment")
    op.drop_index("ix_ticket_attachment_ticket_id", table_name="ticket_attachment")
    op.drop_table("ticket_attachment")
    op.drop_table("attachment_blob")
