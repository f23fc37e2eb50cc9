"""Workflows kept in memory between the steps of their instance, so that the next step in this process can skip
restoring the stored state (parsing the JSON and rebuilding the task tree: the largest part of a restore).

A workflow is kept with the state it was saved as, once the transaction that saved it has committed. A step
takes it out (no two steps share one) and uses it only if the row it has just locked holds exactly that state:
after a change made by another process or transaction, in another database, or in a transaction that rolled
back, the states differ and the step restores the stored one as if nothing had been kept. A step that fails
never puts its workflow back.

One difference remains, and it is SpiffWorkflow's: a task inherits its parent's data copied one level deep, so
nested values (a list in a variable) are shared between a task and its parent in memory until the workflow is
saved and restored. A kept workflow keeps that sharing from one step to the next, as a single run always has.
"""

import threading
from collections import OrderedDict

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

_PENDING = "engine_workflows_to_keep"  # in a session's info: {instance id: (cache, state, workflow)}


class WorkflowCache:
    """At most size workflows, the least recently kept dropped first."""

    def __init__(self, size: int):
        self.size = size
        self._kept: OrderedDict[int, tuple[str, object]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, instance_id: int, state: str):
        """The workflow kept for the instance if it was saved as exactly this state, or None; either way it is no
        longer kept."""
        with self._lock:
            kept = self._kept.pop(instance_id, None)
        return kept[1] if kept is not None and kept[0] == state else None

    def keep(self, instance_id: int, state: str, workflow) -> None:
        with self._lock:
            self._kept[instance_id] = (state, workflow)
            self._kept.move_to_end(instance_id)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)

    def keep_after_commit(self, db: Session, instance_id: int, state: str, workflow) -> None:
        """Keep the workflow once db's transaction commits; forget it if the transaction rolls back."""
        db.info.setdefault(_PENDING, {})[instance_id] = (self, state, workflow)


WORKFLOWS = WorkflowCache(size=256)


def keep_on_commit(sessions: sessionmaker) -> None:
    """Make the sessions of this factory keep their runs' workflows when they commit (the app registers this on
    its writers' factory; nothing else is hooked)."""
    event.listen(sessions, "after_commit", _keep_committed)
    event.listen(sessions, "after_soft_rollback", _forget_rolled_back)


def _keep_committed(session: Session) -> None:
    for instance_id, (cache, state, workflow) in session.info.pop(_PENDING, {}).items():
        cache.keep(instance_id, state, workflow)


def _forget_rolled_back(session: Session, _previous) -> None:
    """Any rollback, a savepoint's too, drops what waited (it would only ever miss: its state was not committed)."""
    session.info.pop(_PENDING, None)
