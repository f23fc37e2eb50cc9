"""Demo data (`flowdesk seed-demo`): the groups, users and catalog items of the contract.

Running it twice changes nothing."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalog.service import seed_items
from app.identity.models import Group, User
from app.identity.service import hash_password

DEMO_PASSWORD = "demo"  # noqa: S105 - the documented password of the demo users

GROUPS = [
    # name, title, role, tier
    ("requesters", "Requesters", "requester", None),
    ("service-desk", "Service desk", "agent", 1),
    ("network-ops", "Network operations", "agent", 2),
    ("app-support", "Application support", "agent", 2),
    ("infrastructure-l3", "Infrastructure (third level)", "agent", 3),
    ("problem-managers", "Problem managers", "agent", None),
    ("managers", "Managers", "manager", None),
    ("finance", "Finance", "approver", None),
    ("process-owners", "Process owners", "process_owner", None),
    ("auditors", "Auditors", "auditor", None),
    ("admins", "Administrators", "admin", None),
    ("integrations", "Integrations", "integration", None),
]

USERS = [
    # username, full name, groups, manager
    ("maria", "Maria Lopez", ["managers"], None),
    ("mark", "Mark Okafor", ["managers"], None),
    ("alice", "Alice Martin", ["requesters"], "maria"),
    ("ramon", "Ramon Diaz", ["requesters"], "mark"),
    ("sam", "Sam Carter", ["service-desk"], "maria"),
    ("sara", "Sara Nilsson", ["service-desk"], "maria"),
    ("nina", "Nina Petrova", ["network-ops"], "mark"),
    ("arun", "Arun Sharma", ["app-support"], "mark"),
    ("lee", "Lee Chen", ["infrastructure-l3", "problem-managers"], "mark"),
    ("fred", "Fred Dubois", ["finance"], "maria"),
    ("olivia", "Olivia Bernard", ["process-owners"], None),
    ("audrey", "Audrey Laurent", ["auditors"], None),
    ("admin", "Administrator", ["admins"], None),
    ("monitor", "Monitoring integration", ["integrations"], None),
]

GROUP_MANAGERS = {
    "service-desk": "maria",
    "network-ops": "mark",
    "app-support": "mark",
    "infrastructure-l3": "mark",
    "finance": "maria",
}


def seed(db: Session) -> int:
    groups = {g.name: g for g in db.scalars(select(Group))}
    for name, title, role, tier in GROUPS:
        if name not in groups:
            groups[name] = Group(name=name, title=title, role=role, tier=tier)
            db.add(groups[name])
    db.flush()
    users = {u.username: u for u in db.scalars(select(User))}
    created = 0
    demo_hash = None
    for username, full_name, group_names, _manager in USERS:
        if username in users:
            continue
        demo_hash = demo_hash or hash_password(DEMO_PASSWORD)
        users[username] = User(
            username=username,
            email=f"{username}@example.org",
            full_name=full_name,
            password_hash=demo_hash,
            groups=[groups[g] for g in group_names],
        )
        db.add(users[username])
        created += 1
    db.flush()
    for username, _full_name, _groups, manager in USERS:
        if manager and users[username].manager_id is None:
            users[username].manager_id = users[manager].id
    for group_name, manager in GROUP_MANAGERS.items():
        if groups[group_name].manager_id is None:
            groups[group_name].manager_id = users[manager].id
    seed_items(db)
    return created
