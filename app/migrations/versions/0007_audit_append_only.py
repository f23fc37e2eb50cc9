"""The audit log is append-only in the database itself: updates and deletes of its rows are refused.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

MESSAGE = "the audit log is append-only"


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION audit_event_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$;
        """)
        op.execute("""
            CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
            FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_change();
        """)
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER audit_event_no_{event.lower()} BEFORE {event} ON audit_event
                BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;
            """)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_event_append_only ON audit_event")
        op.execute("DROP FUNCTION audit_event_refuse_change()")
    else:
        for event in ("update", "delete"):
            op.execute(f"DROP TRIGGER audit_event_no_{event}")
