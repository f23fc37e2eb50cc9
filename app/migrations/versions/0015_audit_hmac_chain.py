"""The audit chain is keyed: every new event's hash is an HMAC-SHA256 under the audit key (FLOWDESK_AUDIT_KEY).
The events written before keep their plain SHA-256 hashes and are marked `hash_kind = 'sha256'`; the first
keyed event's HMAC covers the last plain hash, so the old events cannot be rewritten either, and verify refuses
a plain event after a keyed one.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 16:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN (no table rebuild on SQLite): the append-only triggers stay as they are.
    op.add_column("audit_event", sa.Column("hash_kind", sa.String(10), nullable=False, server_default="sha256"))


def downgrade():
    with op.batch_alter_table("audit_event") as batch_op:
        batch_op.drop_column("hash_kind")
