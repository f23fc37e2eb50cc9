"""Who may work a user task: its assignee, or a member of its candidate groups (unless the diagram assigned it)."""

from app.identity.service import Principal
from app.tasks.models import HumanTask


def is_candidate(user: Principal, task: HumanTask) -> bool:
    return bool(user.groups.intersection(task.candidate_groups))


def may_work(user: Principal, task: HumanTask) -> bool:
    if task.assignee:
        return task.assignee == user.username or (not task.assigned_by_process and is_candidate(user, task))
    return is_candidate(user, task)
