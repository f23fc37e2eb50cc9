"""Ending what signs a user in: sign-out (every session of the user), deactivation (sessions, sign-in and tokens at
once) and token revocation, each in the audit log."""

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.errors import NotFound
from app.identity.models import ApiToken, User


def _end_sessions(db: Session, *, user_id: int) -> None:
    """Every session cookie the user holds stops working on its next request, on every node."""
    db.execute(update(User).where(User.id == user_id).values(session_epoch=User.session_epoch + 1))


def sign_out(db: Session, *, user_id: int, username: str, client: str) -> None:
    """Sign the user out: the cookie of this browser, and any copy of it, no longer signs anyone in."""
    _end_sessions(db, user_id=user_id)
    audit.record(db, kind="sign_out", actor=username, changes={"client": client})


def revoke_token(db: Session, *, token_id: int, actor: str | None) -> None:
    token = db.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no token {token_id}")
    if token.revoked:
        return
    token.revoked = True
    owner = db.scalar(select(User.username).where(User.id == token.user_id))
    audit.record(
        db, kind="token_revoked", actor=actor, changes={"user": owner, "token": token.id, "prefix": token.prefix}
    )


def deactivate(db: Session, *, username: str, actor: str | None) -> None:
    """The user signs in no more: their sessions end and every token is revoked, at once."""
    user = db.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username}")
    user.active = False
    _end_sessions(db, user_id=user.id)
    audit.record(db, kind="user_deactivated", actor=actor, changes={"user": username, "active": [True, False]})
    live = db.scalars(select(ApiToken.id).where(ApiToken.user_id == user.id, ApiToken.revoked.is_(False))).all()
    for token_id in live:
        revoke_token(db, token_id=token_id, actor=actor)
