"""What the engine stores: process definitions (immutable versions), running instances, and the projection of
the user tasks that wait for people.

The projection's tables (human_task, human_task_group) are declared here as tables, not classes: the engine writes
their rows as a run opens and closes user tasks, and app.tasks maps its classes onto them to give them their
meaning for people (who may work a task, claims, inboxes).
"""

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, utcnow


class ProcessDefinition(Base):
    __tablename__ = "process_definition"
    __table_args__ = (UniqueConstraint("process_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    checksum: Mapped[str] = mapped_column(String(64))
    # Every file of the bundle by name: the BPMN, the DMN tables and the forms it references. Loaded only when
    # read: running an instance needs the parsed specs and forms, which are cached by checksum.
    files: Mapped[dict] = mapped_column(deferred=True)
    bpmn_file: Mapped[str] = mapped_column(String(200))
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deployed_by: Mapped[str | None] = mapped_column(String(64))


class ProcessInstance(Base):
    """A running (or ended) instance. Its row is written by the engine's store only, which checks lock_version
    (the one optimistic lock) on every save; read it with the ORM plainly."""

    __tablename__ = "process_instance"

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"), index=True)
    # The ticket number (or another business key) the instance works for.
    business_key: Mapped[str | None] = mapped_column(String(40), index=True)
    status: Mapped[str] = mapped_column(String(20))  # running, waiting, completed, error, cancelled
    # Serialized workflow without its spec (the spec belongs to the definition).
    state: Mapped[str] = mapped_column(Text)
    serializer_version: Mapped[str] = mapped_column(String(20))
    # How many times the instance continued as new (each repetition round restarts the workflow).
    round: Mapped[int] = mapped_column(default=1)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lock_version: Mapped[int] = mapped_column(default=1)

    definition: Mapped[ProcessDefinition] = relationship(lazy="joined")


HUMAN_TASK = Table(
    "human_task",
    Base.metadata,
    Column("id", String(36), primary_key=True),  # the workflow task's UUID
    Column("instance_id", Integer, ForeignKey("process_instance.id"), nullable=False, index=True),
    Column("business_key", String(40), index=True),
    Column("element_id", String(100), nullable=False),
    Column("name", String(200), nullable=False),
    Column("lane", String(100)),
    Column("status", String(20), nullable=False, default="open"),  # open, completed, cancelled
    Column("assignee", String(64)),
    # Set when the assignee comes from the diagram (the requester, a manager): it cannot be unclaimed.
    Column("assigned_by_process", Boolean, nullable=False, default=False),
    Column("form_schema", String(200)),
    Column("form_ui_schema", String(200)),
    Column("created_at", UTCDateTime, nullable=False, default=utcnow),
    Column("due_at", UTCDateTime),
    Column("completed_at", UTCDateTime),
    Column("completed_by", String(64)),
    # The task's input restricted to its form's fields: what the form shows, without loading the workflow.
    Column("data", JSON, nullable=False, default=dict),
    Index("ix_human_task_open_assignee", "status", "assignee"),
    # Open tasks of one instance or ticket, found without scanning the tasks of earlier rounds.
    Index("ix_human_task_instance_status", "instance_id", "status"),
    Index("ix_human_task_business_key_status", "business_key", "status"),
    # Inboxes and queues walk the open tasks newest first.
    Index(
        "ix_human_task_open_created",
        "created_at",
        postgresql_where=text("status = 'open'"),
        sqlite_where=text("status = 'open'"),
    ),
)

HUMAN_TASK_GROUP = Table(
    "human_task_group",
    Base.metadata,
    Column("task_id", String(36), ForeignKey("human_task.id", ondelete="CASCADE"), primary_key=True),
    Column("group_name", String(64), primary_key=True, index=True),
    Column("position", Integer, nullable=False, default=0),
    # The task is open (a copy of its status, kept by the engine when it closes the task).
    Column("open", Boolean, nullable=False, default=True, server_default=true()),
    # A group's queue: its open tasks, found without walking every open task of every group.
    Index(
        "ix_human_task_group_open",
        "group_name",
        "task_id",
        postgresql_where=text("open"),
        sqlite_where=text("open"),
    ),
)
