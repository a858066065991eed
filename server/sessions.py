"""Support sessions: creation with a server-issued routing id, status changes, reports, clean-up.

A session is one ``SupportRecord`` row from creation (``waiting``) through ``active`` to its end
(``ended``, ``disconnected``, ``fault`` or ``refused``). The code the customer types is
``<routing id>-<secret>``; the server issues only the routing id and never sees the secret.
"""

from __future__ import annotations

import datetime as dt
import secrets

from opensupport.server.db.models import OPEN_STATUSES, Agent, SessionInvitation, SupportRecord, utcnow
from opensupport.server.security import new_token
from sqlalchemy import select
from sqlalchemy.orm import Session

ROUTING_ID_DIGITS = 8
#: a session nobody joined is closed after this long
WAITING_LIFETIME = dt.timedelta(hours=12)
#: an active session whose agent has not been heard from for this many online windows is disconnected
SILENT_WINDOWS = 3

FINAL_STATUSES = ("ended", "disconnected", "fault", "refused")


class SessionStateError(ValueError):
    """A status change that the session's current state does not allow."""


def new_routing_id(db: Session) -> str:
    """A routing id (digits, easy to read aloud) not used by any session in progress."""
    for _attempt in range(20):
        candidate = "".join(secrets.choice("0123456789") for _ in range(ROUTING_ID_DIGITS))
        if candidate[0] == "0":
            continue
        clash = db.scalar(
            select(SupportRecord.id).where(
                SupportRecord.routing_id == candidate, SupportRecord.status.in_(OPEN_STATUSES)
            )
        )
        if clash is None:
            # an invitation's routing id (상담원 초대) lives as long as its session
            clash = db.scalar(
                select(SessionInvitation.id).where(
                    SessionInvitation.routing_id == candidate, SessionInvitation.ended_at.is_(None)
                )
            )
        if clash is None:
            return candidate
    raise RuntimeError("could not find a free routing id")  # 20 clashes in 90 million: never in practice


def create_session(
    db: Session,
    agent: Agent,
    *,
    ip_public: str | None = None,
    ip_private: str | None = None,
    pc_name: str | None = None,
) -> tuple[SupportRecord, str]:
    """A new waiting session for ``agent`` and the host token (to pass to the host over the E2E channel)."""
    host_token, host_digest = new_token()
    record = SupportRecord(
        company_id=agent.company_id,
        agent_id=agent.id,
        agent_login_id=agent.login_id,
        agent_name=agent.name,
        agent_ip_public=ip_public if ip_public is not None else agent.last_ip_public,
        agent_ip_private=ip_private if ip_private is not None else agent.last_ip_private,
        agent_pc_name=pc_name,
        routing_id=new_routing_id(db),
        status="waiting",
        created_at=utcnow(),
        resolved="unset",
        host_token_hash=host_digest,
    )
    db.add(record)
    db.flush()
    return record, host_token


def set_status(record: SupportRecord, status: str, now: dt.datetime | None = None) -> None:
    """Move ``record`` to ``status``, stamping start, end and duration.

    Raises :class:`SessionStateError` for a change out of a finished session or back to ``waiting``.
    """
    now = now or utcnow()
    if record.status in FINAL_STATUSES:
        if record.status == status:
            return
        raise SessionStateError(f"the session has already finished ({record.status})")
    if status == "waiting":
        raise SessionStateError("a session cannot go back to waiting")
    if status == "active":
        if record.started_at is None:
            record.started_at = now
        record.status = "active"
        return
    if status not in FINAL_STATUSES:
        raise SessionStateError(f"unknown status {status!r}")
    record.status = status
    record.ended_at = now
    for invitation in record.invitations:  # the main session's end ends every invited agent's too
        if invitation.ended_at is None:
            invitation.ended_at = now
    if record.started_at is not None:
        record.duration_s = max(0, int((now - record.started_at).total_seconds()))


def close_stale_sessions(
    db: Session, company_id: int | None, online_window_s: int, silent_after_s: int | None = None
) -> int:
    """Close sessions nobody can still be in: waiting ones past their lifetime (ended), and active ones
    whose agent was silent for ``silent_after_s`` seconds (None: :data:`SILENT_WINDOWS` online windows;
    ``Settings.silent_after``, ``OPENSUPPORT_SILENT_AFTER_S``) -- disconnected, so they show in 장애 상황
    관리. Returns how many it closed."""
    now = utcnow()
    closed = 0
    query = select(SupportRecord).where(SupportRecord.status.in_(OPEN_STATUSES))
    if company_id is not None:
        query = query.where(SupportRecord.company_id == company_id)
    silent_after = dt.timedelta(
        seconds=silent_after_s if silent_after_s is not None else online_window_s * SILENT_WINDOWS
    )
    for record in db.scalars(query).all():
        if record.status == "waiting" and now - record.created_at > WAITING_LIFETIME:
            set_status(record, "ended", now)
            closed += 1
        elif record.status == "active":
            agent = db.get(Agent, record.agent_id) if record.agent_id is not None else None
            last = agent.last_seen_at if agent is not None else None
            if agent is None or agent.token_hash is None or last is None or now - last > silent_after:
                set_status(record, "disconnected", now)
                closed += 1
    return closed


def end_open_sessions_of(db: Session, agent: Agent, status: str = "disconnected") -> None:
    """Close every open session of ``agent`` (its viewer was cut off by a newer login or logged out)."""
    now = utcnow()
    for record in db.scalars(
        select(SupportRecord).where(
            SupportRecord.agent_id == agent.id, SupportRecord.status.in_(OPEN_STATUSES)
        )
    ).all():
        set_status(record, status if record.status == "active" else "ended", now)


__all__ = [
    "FINAL_STATUSES",
    "SessionStateError",
    "close_stale_sessions",
    "create_session",
    "end_open_sessions_of",
    "new_routing_id",
    "set_status",
]
