"""Sign-in throttling: growing delays after failed sign-ins, kept in the database so every app node sees them.

Failures are counted under three keys. A client address (`client:ADDR`, every account it tries) and an account
tried from one address (`pair:USER@ADDR`) each answer their first failures at once, then make every further
attempt wait a delay that doubles with each failure (1 s, 2 s, 4 s ...) up to 15 minutes. The account alone
(`account:USER`, from anywhere) is a ceiling against guesses spread over many addresses: it counts only the
failures of addresses still within their own free allowance for that account, so one address adds at most a
handful, and its delay stops at one minute. One attacker therefore slows himself down and never the account's
owner signing in from elsewhere; even many attackers together can only space that owner's attempts a minute
apart, never lock the account.

A waiting attempt is refused before its password is checked and counts for nothing; a key without a failure
for an hour is forgotten (and its row deleted).
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.identity.models import SignInThrottle

FORGET = timedelta(hours=1)
_TABLE = SignInThrottle.__table__


@dataclass(frozen=True)
class Rule:
    prefix: str
    free: int  # failures answered without a delay
    cap: timedelta  # the longest delay


CLIENT = Rule("client", free=10, cap=timedelta(minutes=15))  # offices behind one address share it
PAIR = Rule("pair", free=5, cap=timedelta(minutes=15))
ACCOUNT = Rule("account", free=30, cap=timedelta(minutes=1))


def delay(rule: Rule, failures: int) -> timedelta:
    """How long the next attempt under a key of the rule waits after its failures-th failure."""
    over = failures - rule.free
    if over <= 0:
        return timedelta(0)
    return min(timedelta(seconds=2 ** min(over - 1, 20)), rule.cap)


def _keys(username: str, client: str) -> dict[Rule, str]:
    return {
        CLIENT: f"client:{client}",
        PAIR: f"pair:{username}@{client}",
        ACCOUNT: f"account:{username}",
    }


def wait_seconds(db: Session, *, username: str, client: str, now: datetime) -> int:
    """Whole seconds before an attempt for the account from the client may have its password checked (0: now)."""
    keys = list(_keys(username, client).values())
    blocked = db.scalars(select(SignInThrottle.blocked_until).where(SignInThrottle.key.in_(keys))).all()
    latest = max((moment for moment in blocked if moment is not None), default=None)
    return math.ceil((latest - now).total_seconds()) if latest and latest > now else 0


def count_failure(db: Session, *, username: str, client: str, now: datetime) -> int:
    """Count a failed sign-in under its keys; the seconds the next attempt from this client must wait."""
    keys = _keys(username, client)
    pair_failures = _count(db, keys[PAIR], now)
    counts = {PAIR: pair_failures, CLIENT: _count(db, keys[CLIENT], now)}
    if pair_failures <= PAIR.free:
        counts[ACCOUNT] = _count(db, keys[ACCOUNT], now)
    longest = timedelta(0)
    for rule, failures in counts.items():
        wait = delay(rule, failures)
        if wait:
            db.execute(update(_TABLE).where(_TABLE.c.key == keys[rule]).values(blocked_until=now + wait))
        longest = max(longest, wait)
    db.execute(delete(_TABLE).where(_TABLE.c.last_failure_at < now - FORGET))
    return math.ceil(longest.total_seconds())


def forget_pair(db: Session, *, username: str, client: str) -> None:
    """A successful sign-in clears the account's count for that address (not the address's own count, which a
    sign-in to the attacker's own account would otherwise reset)."""
    db.execute(delete(_TABLE).where(_TABLE.c.key == _keys(username, client)[PAIR]))


def _count(db: Session, key: str, now: datetime) -> int:
    """One more failure under the key (one statement: concurrent nodes never lose a count); the new count."""
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(_TABLE).values(key=key, failures=1, last_failure_at=now, blocked_until=None)
    statement = statement.on_conflict_do_update(
        index_elements=[_TABLE.c.key],
        set_={
            "failures": case((_TABLE.c.last_failure_at < now - FORGET, 1), else_=_TABLE.c.failures + 1),
            "last_failure_at": now,
        },
    ).returning(_TABLE.c.failures)
    return db.execute(statement).scalar_one()
