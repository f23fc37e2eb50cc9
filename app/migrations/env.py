"""Alembic environment: runs migrations on the engine that `app.migrate` hands over."""

from alembic import context

import app.audit.models  # noqa: F401 - register tables
import app.engine.models  # noqa: F401
import app.identity.models  # noqa: F401
import app.tickets.models  # noqa: F401
from app.db import Base

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
