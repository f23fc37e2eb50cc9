"""Who a user is and what they may do: passwords, sign-in (throttled, audited), API tokens and roles."""

import hashlib
import secrets
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.db import utcnow
from app.errors import TooManyAttempts
from app.identity import throttle
from app.identity.models import ApiToken, Group, User, membership

_hasher = PasswordHasher()
# A hash of a random password, verified when the user does not exist so both paths cost the same.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


@dataclass(frozen=True)
class Principal:
    """The signed-in user as the services see it (also Flask-Login's user object)."""

    id: int
    username: str
    full_name: str
    email: str
    groups: frozenset[str]
    roles: frozenset[str]
    locale: str | None = None
    tiers: dict[str, int] = field(default_factory=dict, compare=False, hash=False)
    session_epoch: int = field(default=0, compare=False, hash=False)

    # Flask-Login interface
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        """What the session cookie holds: the user's id and session epoch (a cookie of an earlier epoch, from
        before a sign-out or a deactivation, finds no user)."""
        return f"{self.id}:{self.session_epoch}"

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_agent(self) -> bool:
        return "agent" in self.roles

    @property
    def sees_all_tickets(self) -> bool:
        return self.has("agent", "process_owner", "auditor", "admin")


def principal_of(user: User) -> Principal:
    return _principal_from(user, [(g.name, g.role, g.tier) for g in user.groups])


def _principal_from(user, groups: list[tuple[str, str, int | None]]) -> Principal:
    """A principal from a user (an ORM user or a row with its columns) and its groups' (name, role, tier)."""
    return Principal(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        email=user.email,
        groups=frozenset(name for name, _, _ in groups),
        roles=frozenset(role for _, role, _ in groups),
        locale=user.locale,
        tiers={name: tier for name, _, tier in groups if tier},
        session_epoch=user.session_epoch,
    )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def authenticate(db: Session, *, username: str, password: str, client: str) -> Principal | None:
    """The user when the password matches; None otherwise. Every outcome is in the audit log (the name tried and
    the client's address, never the password). After repeated failures from this client or for this account,
    raises TooManyAttempts without checking the password (app/identity/throttle.py)."""
    name = username.strip().lower()[:64]
    now = utcnow()
    wait = throttle.wait_seconds(db, username=name, client=client, now=now)
    if wait:
        raise TooManyAttempts(f"too many failed sign-ins: try again in {wait} seconds", retry_after=wait)
    user = db.scalar(select(User).where(User.username == name))
    if user is None or not user.active:
        _verify(_DUMMY_HASH, password)  # as slow as a wrong password: a quick answer would tell who exists
        return _failed(db, name=name, client=client, now=now)
    if not _verify(user.password_hash, password):
        return _failed(db, name=name, client=client, now=now)
    throttle.forget_pair(db, username=name, client=client)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    audit.record(db, kind="sign_in", actor=user.username, changes={"client": client})
    return principal_of(user)


def _failed(db: Session, *, name: str, client: str, now) -> None:
    delayed = throttle.count_failure(db, username=name, client=client, now=now)
    changes = {"username": name, "client": client, "delay_seconds": delayed}
    audit.record(db, kind="sign_in_failed", actor=None, changes=changes)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(db: Session, *, username: str, actor: str | None = None) -> str:
    """A new API token for the user; only its hash is stored, so this is the one time it is seen. The audit log
    keeps who made it (actor; None: the command line) and its prefix."""
    user = db.scalar(select(User).where(User.username == username))
    if user is None:
        raise LookupError(f"no user {username}")
    token = "fd_" + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=_token_digest(token), prefix=token[:10])
    db.add(row)
    db.flush()
    audit.record(
        db, kind="token_created", actor=actor, changes={"user": username, "token": row.id, "prefix": row.prefix}
    )
    return token


# Built once: the statements that run before every request keep their compiled form and cache key, so each
# call only binds its value (building and keying the query again cost about as much as running it).
_WITH_GROUPS = (
    select(
        User.id,
        User.username,
        User.full_name,
        User.email,
        User.locale,
        User.session_epoch,
        Group.name,
        Group.role,
        Group.tier,
    )
    .outerjoin(membership, membership.c.user_id == User.id)
    .outerjoin(Group, Group.id == membership.c.group_id)
    .where(User.active.is_(True))
)
_LIVE_TOKEN_OWNER = select(ApiToken.user_id).where(
    ApiToken.token_hash == bindparam("digest"), ApiToken.revoked.is_(False)
)
_BY_TOKEN = _WITH_GROUPS.where(User.id.in_(_LIVE_TOKEN_OWNER))
_BY_ID = _WITH_GROUPS.where(User.id == bindparam("user_id"))
_BY_NAME = _WITH_GROUPS.where(User.username == bindparam("username"))
_BY_SESSION = _WITH_GROUPS.where(User.id == bindparam("user_id"), User.session_epoch == bindparam("epoch"))


def principal_for_token(db: Session, *, token: str) -> Principal | None:
    return _principal(db, _BY_TOKEN, digest=_token_digest(token))


def principal_by_id(db: Session, *, user_id: int) -> Principal | None:
    return _principal(db, _BY_ID, user_id=user_id)


def principal_for_session(db: Session, *, session_id: str) -> Principal | None:
    """The active user a session cookie names ("id:epoch", Principal.get_id), if that session was not ended."""
    user_id, _, epoch = session_id.partition(":")
    if not (user_id.isdigit() and epoch.isdigit()):
        return None
    return _principal(db, _BY_SESSION, user_id=int(user_id), epoch=int(epoch))


def principal_by_name(db: Session, *, username: str) -> Principal | None:
    return _principal(db, _BY_NAME, username=username)


def _principal(db: Session, query, **values) -> Principal | None:
    """The active user that the query finds, with their groups, in one query of plain rows (no ORM objects: this
    runs before every request)."""
    rows = db.execute(query, values).all()
    if not rows:
        return None
    return _principal_from(rows[0], [(row.name, row.role, row.tier) for row in rows if row.name is not None])


def group_by_name(db: Session, *, name: str) -> Group | None:
    return db.scalar(select(Group).where(Group.name == name))


_MEMBERS = (
    select(Group.name, User.username)
    .join(membership, membership.c.user_id == User.id)
    .join(Group, Group.id == membership.c.group_id)
    .where(Group.name.in_(bindparam("groups", expanding=True)), User.active.is_(True))
    .order_by(User.username)
)


def members_of(db: Session, *, groups: list[str]) -> list[str]:
    """User names of the active members of any of the groups: the first group's members by name, then the next
    group's members not named yet (one query)."""
    if not groups:
        return []
    rows = db.execute(_MEMBERS, {"groups": list(groups)}).all()
    ordered = [username for group in groups for name, username in rows if name == group]
    return list(dict.fromkeys(ordered))


def manager_of(db: Session, *, group: str) -> str | None:
    """The user name of the group's manager (hierarchical escalation), if it has one."""
    return db.scalar(select(User.username).join(Group, Group.manager_id == User.id).where(Group.name == group))
