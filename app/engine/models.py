"""Process definitions (immutable versions), running instances and their projected human tasks."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text, true
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

    __mapper_args__ = {"version_id_col": lock_version}


class HumanTask(Base):
    __tablename__ = "human_task"
    __table_args__ = (
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

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the workflow task's UUID
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    business_key: Mapped[str | None] = mapped_column(String(40), index=True)
    element_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="open")  # open, completed, cancelled
    assignee: Mapped[str | None] = mapped_column(String(64), default=None)
    # Set when the assignee comes from the diagram (the requester, a manager): it cannot be unclaimed.
    assigned_by_process: Mapped[bool] = mapped_column(default=False)
    form_schema: Mapped[str | None] = mapped_column(String(200))
    form_ui_schema: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    completed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    # The task's input restricted to its form's fields: what the form shows, without loading the workflow.
    data: Mapped[dict] = mapped_column(default=dict)

    # Loaded when read (from the session's identity map when the instance is already there): a list of tasks
    # does not drag every instance's state along.
    instance: Mapped[ProcessInstance] = relationship(lazy="select")
    groups: Mapped[list["HumanTaskGroup"]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="HumanTaskGroup.position"
    )

    @property
    def candidate_groups(self) -> list[str]:
        return [g.group_name for g in self.groups]


class HumanTaskGroup(Base):
    __tablename__ = "human_task_group"
    __table_args__ = (
        # A group's queue: its open tasks, found without walking every open task of every group.
        Index(
            "ix_human_task_group_open",
            "group_name",
            "task_id",
            postgresql_where=text("open"),
            sqlite_where=text("open"),
        ),
    )

    task_id: Mapped[str] = mapped_column(ForeignKey("human_task.id", ondelete="CASCADE"), primary_key=True)
    group_name: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(default=0)
    # The task is open (a copy of its status, kept by the engine when it closes the task).
    open: Mapped[bool] = mapped_column(default=True, server_default=true())


class Job(Base):
    """Work due later or outside a request: the waiting timers of instances and the outbox (mails).

    Workers lease due jobs (status running with a lease that expires), fire them in one transaction with
    the instance's new state, and mark them done in that same transaction: each fires once even with many
    workers, and a worker that dies mid-job only delays it until its lease expires."""

    __tablename__ = "job"
    __table_args__ = (Index("ix_job_due", "status", "due_at"), Index("ix_job_instance", "instance_id", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="timer")  # timer, mail
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    element_id: Mapped[str | None] = mapped_column(String(100))
    # What an outbox job sends (a mail's recipient, subject and body); the key makes a send idempotent.
    payload: Mapped[dict] = mapped_column(default=dict)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True, default=None)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="waiting")  # waiting, running, done, failed, cancelled
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    lease_owner: Mapped[str | None] = mapped_column(String(100), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
