"""The user tasks waiting for people, mapped onto the engine's projection tables (the engine opens and closes
their rows as a run goes; claims and assignments are written here)."""

from sqlalchemy.orm import relationship

from app.db import Base
from app.engine import HUMAN_TASK, HUMAN_TASK_GROUP, ProcessInstance


class HumanTaskGroup(Base):
    __table__ = HUMAN_TASK_GROUP


class HumanTask(Base):
    __table__ = HUMAN_TASK

    # Loaded when read (from the session's identity map when the instance is already there): a list of tasks
    # does not drag every instance's state along.
    instance = relationship(ProcessInstance, lazy="select")
    groups = relationship(HumanTaskGroup, lazy="selectin", order_by=HUMAN_TASK_GROUP.c.position)

    @property
    def candidate_groups(self) -> list[str]:
        return [g.group_name for g in self.groups]
