"""Users, groups, API tokens and the sign-in throttle's counters."""

from datetime import datetime

from sqlalchemy import Boolean, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, utcnow

membership = Table(
    "membership",
    Base.metadata,
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("user_group.id", ondelete="CASCADE"), primary_key=True),
)


class Group(Base):
    __tablename__ = "user_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    # What membership grants: requester, agent, manager, approver, process_owner, auditor, admin, integration.
    role: Mapped[str] = mapped_column(String(32))
    tier: Mapped[int | None] = mapped_column(default=None)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The language the user chose; None: the browser's preferred language decides.
    locale: Mapped[str | None] = mapped_column(String(8), default=None)
    # Part of every session cookie: signing out or deactivating the user adds one, which ends every session
    # signed in before (a copied cookie included), on every node.
    session_epoch: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    groups: Mapped[list[Group]] = relationship(secondary=membership, lazy="selectin")
    manager: Mapped["User | None"] = relationship(remote_side=[id], lazy="select")


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    # sha256 of the token: tokens are long random strings, so a fast hash is enough and lookups stay O(1).
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class SignInThrottle(Base):
    """Failed sign-ins counted under one key: a client address (`client:ADDR`), an account tried from one
    address (`pair:USER@ADDR`) or an account from anywhere (`account:USER`); see app/identity/throttle.py."""

    __tablename__ = "sign_in_throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # No attempt under this key has its password checked before this moment.
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
