"""The server's tables, as SQLAlchemy 2 typed declarative models (the contract in the project docs).

Every row that belongs to a tenant carries ``company_id``; every query of the admin web and the API
filters on the caller's company, so one company never reaches another's rows.

Agent options live in one JSON column, ``Agent.options``, holding only the values an administrator set;
the defaults and the list of options are in :mod:`opensupport.server.options` (one line per option), and
``Agent.effective_options()`` merges the two. Adding an option therefore needs no migration.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timestamps stored as naive UTC and always handed back timezone-aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base of every table."""


class Company(Base):
    """A tenant: a support company with its licences, administrators, agents and records."""

    __tablename__ = "company"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    service_name: Mapped[str] = mapped_column(String(100), default="")
    pc_licences: Mapped[int] = mapped_column(Integer, default=0)
    mobile_licences: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class AdminUser(Base):
    """An administrator of one company. ``login_id`` is unique over the whole server (one login page)."""

    __tablename__ = "admin_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"), index=True)
    login_id: Mapped[str] = mapped_column(String(32), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    #: rotated on logout and password change: every cookie signed with an older value stops working
    session_nonce: Mapped[str] = mapped_column(String(64), default="")

    company: Mapped[Company] = relationship(lazy="joined")


class Department(Base):
    """A department of a company; agents belong to at most one."""

    __tablename__ = "department"
    __table_args__ = (UniqueConstraint("company_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))


class Agent(Base):
    """A support agent (상담원). ``login_id`` is unique over the whole server: it names the customer URL."""

    __tablename__ = "agent"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="SET NULL"), index=True
    )
    login_id: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    company_name: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    can_pc: Mapped[bool] = mapped_column(default=True)
    can_mobile: Mapped[bool] = mapped_column(default=False)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_ip_public: Mapped[str | None] = mapped_column(String(64))
    last_ip_private: Mapped[str | None] = mapped_column(String(64))
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: option key -> value, only for options the administrator set (see opensupport.server.options)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: SHA-256 of the viewer's current API token; None when logged out. One live login per agent.
    token_hash: Mapped[str | None] = mapped_column(String(64), index=True)

    department: Mapped[Department | None] = relationship(lazy="joined")

    def effective_options(self) -> dict[str, bool]:
        """Every option of the registry with this agent's value (the manual's default when unset)."""
        from opensupport.server.options import effective_options

        return effective_options(self.options or {})

    def is_online(self, now: dt.datetime, window_s: int) -> bool:
        """Logged in from a viewer and heard from within the last ``window_s`` seconds."""
        return (
            self.token_hash is not None
            and self.last_seen_at is not None
            and (now - self.last_seen_at).total_seconds() < window_s
        )


class FaultType(Base):
    """A fault type an agent picks when recording a session (장애 유형); at most 30 per company."""

    __tablename__ = "fault_type"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=0)


#: values of SupportRecord.status
SESSION_STATUSES = ("waiting", "active", "ended", "disconnected", "fault", "refused")
#: statuses of a session still in progress (상담 관리); every other status is a finished record
OPEN_STATUSES = ("waiting", "active")
#: values of SupportRecord.resolved
RESOLVED_VALUES = ("resolved", "unresolved", "unset")


class SupportRecord(Base):
    """One support session, from its creation while waiting to its final record."""

    __tablename__ = "support_record"
    __table_args__ = (
        Index("ix_support_record_company_started", "company_id", "started_at"),
        Index("ix_support_record_company_agent_started", "company_id", "agent_login_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id", ondelete="SET NULL"))
    agent_login_id: Mapped[str] = mapped_column(String(12))
    agent_name: Mapped[str] = mapped_column(String(100), default="")
    agent_ip_public: Mapped[str | None] = mapped_column(String(64))
    agent_ip_private: Mapped[str | None] = mapped_column(String(64))
    agent_pc_name: Mapped[str | None] = mapped_column(String(100))
    routing_id: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    customer_name: Mapped[str | None] = mapped_column(String(100))
    customer_ip_public: Mapped[str | None] = mapped_column(String(64))
    customer_ip_private: Mapped[str | None] = mapped_column(String(64))
    customer_pc_name: Mapped[str | None] = mapped_column(String(100))
    customer_os: Mapped[str | None] = mapped_column(String(100))
    customer_email: Mapped[str | None] = mapped_column(String(200))
    customer_phone: Mapped[str | None] = mapped_column(String(40))
    fault_type_id: Mapped[int | None] = mapped_column(ForeignKey("fault_type.id", ondelete="SET NULL"))
    fault_type_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    duration_s: Mapped[int | None] = mapped_column(Integer)
    content: Mapped[str | None] = mapped_column(Text)
    resolved: Mapped[str] = mapped_column(String(16), default="unset")
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    customer_comment: Mapped[str | None] = mapped_column(Text)
    #: SHA-256 of the token the host (customer side) uses for its reports; the viewer hands the token to
    #: the host over the end-to-end encrypted session, so only the real host can report on this session
    host_token_hash: Mapped[str | None] = mapped_column(String(64))

    #: 상담원 초대: the agents invited into this session, oldest first
    invitations: Mapped[list[SessionInvitation]] = relationship(
        back_populates="record", order_by="SessionInvitation.id", cascade="all, delete-orphan"
    )


#: values of SessionInvitation.consent
INVITATION_CONSENTS = ("pending", "accepted", "refused")


class SessionInvitation(Base):
    """상담원 초대: a second agent invited into a running session, to view or to control.

    The invitation has a routing id of its own (the relay pairs one host with one viewer per id); the
    secret half of its code is made by the inviting viewer and travels to the host only inside the
    encrypted session, to the invited agent only from the inviting agent. The host records the
    customer's answer (``consent``); the invited agent's viewer records who joined and when it left.
    """

    __tablename__ = "session_invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("support_record.id", ondelete="CASCADE"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"))
    routing_id: Mapped[str] = mapped_column(String(32), index=True)
    #: True: the invited agent may control (still only when the host's rules allow control)
    control: Mapped[bool] = mapped_column(default=False)
    invited_by_login_id: Mapped[str] = mapped_column(String(12))
    #: the one agent who may join (None: any agent of the company but the inviting one)
    invitee_login_id: Mapped[str | None] = mapped_column(String(12))
    consent: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    joined_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id", ondelete="SET NULL"))
    joined_login_id: Mapped[str | None] = mapped_column(String(12))
    joined_name: Mapped[str | None] = mapped_column(String(100))
    joined_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    left_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: when the invitation stopped being usable (refused, left, or the session ended)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    record: Mapped[SupportRecord] = relationship(back_populates="invitations")


class AuditLog(Base):
    """One administrative change: who (``actor``) did what (``action``) to what (``target``), when."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_company_at", "company_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class AgentFavourite(Base):
    """즐겨찾기: a URL, program or folder the agent opens on the customer's PC with one click (its profile;
    see opensupport.server.api.favourites). The host opens an entry only from this list, by its id."""

    __tablename__ = "agent_favourite"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agent.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))  # url | program | folder
    label: Mapped[str] = mapped_column(String(200))
    target: Mapped[str] = mapped_column(Text)
    #: a program's arguments (a list of strings; empty for URLs and folders)
    args: Mapped[list[str]] = mapped_column(JSON, default=list)
