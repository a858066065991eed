"""상담원 초대: a second agent joins a running session, to view or to control.

The routes of the three parties:

- the session's own agent issues an invitation (``POST /api/sessions/{id}/invitations``): only for its
  own active session, only when its options allow 상담원 초대 (``invite_agent``), and at most
  :data:`MAX_INVITATIONS` per session (:data:`MAX_OPEN_INVITATIONS` at a time). The server issues a routing
  id of its own; the inviting viewer makes the secret half of the code, which the server never sees;
- the host (host token of the same session) reads the invitation, records the customer's answer
  (상담원 초대전 고객동의) and the end of the invited agent's connection;
- the invited agent (any agent of the company but the inviting one, or the one agent named) registers its
  join with the routing id before it connects, and its leaving. Failed joins are throttled per agent like
  logins (429 with Retry-After), so routing ids cannot be probed.

An invitation ends (``ended_at``) when it is refused, when the invited agent leaves, or with its session.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import JSONResponse
from opensupport.server.api.deps import CurrentAgent, HostSessionDep
from opensupport.server.api.schemas import AgentLoginId, Message, Strict
from opensupport.server.db.models import Agent, SessionInvitation, SupportRecord, utcnow
from opensupport.server.security import LoginThrottle
from opensupport.server.sessions import new_routing_id
from opensupport.server.web.deps import DbSession
from pydantic import BaseModel, Field
from sqlalchemy import func, or_, select

router = APIRouter(prefix="/api", tags=["invitations"])

#: invitations one session may issue in its life, and how many may be unfinished at a time
MAX_INVITATIONS = 10
MAX_OPEN_INVITATIONS = 2

RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
RoutingId = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[0-9]+$")]

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Message},
    403: {"model": Message},
    404: {"model": Message},
    409: {"model": Message},
    422: {"description": "invalid input"},
    429: {"model": Message},
}


class InvitationCreate(Strict):
    """An invitation: view or control, for one named agent or any agent of the company."""

    control: bool = False
    invitee: AgentLoginId | None = Field(None, description="the one agent who may join (default: any)")


class InvitationJoin(Strict):
    routing_id: RoutingId


class InvitationConsent(Strict):
    accepted: bool


class InvitationOut(BaseModel):
    id: int
    record_id: int
    routing_id: str = Field(description="the public half of the invitation's code")
    control: bool
    status: Literal["pending", "accepted", "joined", "refused", "left", "ended"]
    consent: str
    invited_by_login_id: str
    invited_by_name: str
    invitee_login_id: str | None
    joined_login_id: str | None
    joined_name: str | None
    created_at: str
    joined_at: str | None
    left_at: str | None
    ended_at: str | None


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def invitation_status(inv: SessionInvitation) -> str:
    """One word for where the invitation stands."""
    if inv.consent == "refused":
        return "refused"
    if inv.left_at is not None:
        return "left"
    if inv.ended_at is not None:
        return "ended"
    if inv.joined_at is not None:
        return "joined"
    return inv.consent


def invitation_out(inv: SessionInvitation) -> InvitationOut:
    return InvitationOut(
        id=inv.id, record_id=inv.record_id, routing_id=inv.routing_id, control=inv.control,
        status=invitation_status(inv),  # type: ignore[arg-type]
        consent=inv.consent, invited_by_login_id=inv.invited_by_login_id,
        invited_by_name=inv.record.agent_name, invitee_login_id=inv.invitee_login_id,
        joined_login_id=inv.joined_login_id, joined_name=inv.joined_name,
        created_at=inv.created_at.isoformat(), joined_at=_iso(inv.joined_at), left_at=_iso(inv.left_at),
        ended_at=_iso(inv.ended_at),
    )  # fmt: skip


def _throttled(seconds: float) -> JSONResponse:
    wait = math.ceil(seconds)
    return JSONResponse(
        {"detail": f"too many failed attempts; try again in {wait} seconds"},
        status_code=429,
        headers={"Retry-After": str(wait)},
    )


# -- the inviting agent ------------------------------------------------------------------------------------
@router.post(
    "/sessions/{record_id}/invitations", response_model=InvitationOut, status_code=201, responses=ERRORS
)
def create_invitation(
    db: DbSession, agent: CurrentAgent, record_id: RowId, body: InvitationCreate
) -> InvitationOut | JSONResponse:
    """상담원 초대: invite a second agent into this agent's own active session (view or control)."""
    record = db.scalar(
        select(SupportRecord).where(SupportRecord.id == record_id, SupportRecord.agent_id == agent.id)
    )
    if record is None:
        raise HTTPException(404, "no such session of this agent")
    if not agent.effective_options()["invite_agent"]:
        raise HTTPException(403, "inviting an agent (상담원 초대) is switched off for this agent")
    if record.status != "active":
        raise HTTPException(409, f"the session is {record.status}; only a running session can invite")
    if body.invitee is not None:
        invitee = db.scalar(
            select(Agent).where(Agent.login_id == body.invitee, Agent.company_id == agent.company_id)
        )
        if invitee is None or invitee.id == agent.id:
            raise HTTPException(422, "the invited agent must be another agent of this company")
    issued = db.scalar(
        select(func.count()).select_from(SessionInvitation).where(SessionInvitation.record_id == record.id)
    )
    unfinished = db.scalar(
        select(func.count())
        .select_from(SessionInvitation)
        .where(SessionInvitation.record_id == record.id, SessionInvitation.ended_at.is_(None))
    )
    if (issued or 0) >= MAX_INVITATIONS or (unfinished or 0) >= MAX_OPEN_INVITATIONS:
        return JSONResponse(
            {"detail": "too many invitations for this session"},
            status_code=429,
            headers={"Retry-After": "60"},
        )
    inv = SessionInvitation(
        record=record, company_id=record.company_id, routing_id=new_routing_id(db), control=body.control,
        invited_by_login_id=agent.login_id, invitee_login_id=body.invitee, consent="pending",
        created_at=utcnow(),
    )  # fmt: skip
    db.add(inv)
    db.commit()
    return invitation_out(inv)


@router.get("/sessions/{record_id}/invitations", response_model=list[InvitationOut], responses=ERRORS)
def session_invitations(db: DbSession, agent: CurrentAgent, record_id: RowId) -> list[InvitationOut]:
    """The invitations of this agent's own session, oldest first (who joined, who left, refusals)."""
    record = db.scalar(
        select(SupportRecord).where(SupportRecord.id == record_id, SupportRecord.agent_id == agent.id)
    )
    if record is None:
        raise HTTPException(404, "no such session of this agent")
    return [invitation_out(inv) for inv in record.invitations]


# -- the invited agent -------------------------------------------------------------------------------------
@router.get("/invitations", response_model=list[InvitationOut], responses=ERRORS)
def open_invitations(db: DbSession, agent: CurrentAgent) -> list[InvitationOut]:
    """Invitations this agent may join now (named for it, or for any agent of its company)."""
    rows = db.scalars(
        select(SessionInvitation)
        .join(SupportRecord, SupportRecord.id == SessionInvitation.record_id)
        .where(
            SessionInvitation.company_id == agent.company_id,
            SessionInvitation.ended_at.is_(None),
            SessionInvitation.joined_at.is_(None),
            SessionInvitation.consent != "refused",
            SupportRecord.status == "active",
            SupportRecord.agent_id != agent.id,
            or_(
                SessionInvitation.invitee_login_id.is_(None),
                SessionInvitation.invitee_login_id == agent.login_id,
            ),
        )
        .order_by(SessionInvitation.id)
    ).all()
    return [invitation_out(inv) for inv in rows]


@router.post("/invitations/join", response_model=InvitationOut, responses=ERRORS)
def join_invitation(
    request: Request, db: DbSession, agent: CurrentAgent, body: InvitationJoin
) -> InvitationOut | JSONResponse:
    """Register this agent as the invited one, before its viewer connects with the invitation's code."""
    throttle: LoginThrottle = request.app.state.login_throttle
    key = f"invitation:{agent.id}"
    wait = throttle.retry_after(key)
    if wait > 0:
        return _throttled(wait)
    inv = db.scalar(
        select(SessionInvitation).where(
            SessionInvitation.routing_id == body.routing_id,
            SessionInvitation.company_id == agent.company_id,
            SessionInvitation.ended_at.is_(None),
        )
    )
    record = inv.record if inv is not None else None
    if inv is None or record is None or record.status != "active":
        throttle.failed(key)
        raise HTTPException(404, "no open invitation with this code")
    if record.agent_id == agent.id:
        raise HTTPException(409, "this is the agent's own session")
    if inv.invitee_login_id is not None and inv.invitee_login_id != agent.login_id:
        throttle.failed(key)
        raise HTTPException(403, "this invitation is for another agent")
    if inv.consent == "refused":
        raise HTTPException(409, "the customer refused this invitation")
    if inv.joined_agent_id is not None and inv.joined_agent_id != agent.id:
        raise HTTPException(409, "another agent already joined with this invitation")
    throttle.succeeded(key)
    if inv.joined_at is None:
        inv.joined_agent_id, inv.joined_login_id, inv.joined_name = agent.id, agent.login_id, agent.name
        inv.joined_at = utcnow()
    db.commit()
    return invitation_out(inv)


@router.post("/invitations/{invitation_id}/leave", response_model=InvitationOut, responses=ERRORS)
def leave_invitation(db: DbSession, agent: CurrentAgent, invitation_id: RowId) -> InvitationOut:
    """The invited agent left (the session goes on without it)."""
    inv = db.get(SessionInvitation, invitation_id)
    if inv is None or inv.joined_agent_id != agent.id:
        raise HTTPException(404, "no invitation this agent joined")
    _mark_left(inv)
    db.commit()
    return invitation_out(inv)


def _mark_left(inv: SessionInvitation) -> None:
    now = utcnow()
    if inv.joined_at is not None and inv.left_at is None:
        inv.left_at = now
    if inv.ended_at is None:
        inv.ended_at = now


# -- the host ----------------------------------------------------------------------------------------------
def _host_invitation(db: DbSession, record: SupportRecord, invitation_id: int) -> SessionInvitation:
    inv = db.get(SessionInvitation, invitation_id)
    if inv is None or inv.record_id != record.id:
        raise HTTPException(404, "no such invitation in this session")
    return inv


@router.get("/host/invitations/{invitation_id}", response_model=InvitationOut, responses=ERRORS)
def host_invitation(db: DbSession, record: HostSessionDep, invitation_id: RowId) -> InvitationOut:
    """An invitation of the host's own session: its routing id, view or control, who joined."""
    return invitation_out(_host_invitation(db, record, invitation_id))


@router.post("/host/invitations/{invitation_id}/consent", response_model=InvitationOut, responses=ERRORS)
def host_consent(
    db: DbSession, record: HostSessionDep, invitation_id: RowId, body: InvitationConsent
) -> InvitationOut:
    """The customer's answer (상담원 초대전 고객동의; accepted without asking when the option is off)."""
    inv = _host_invitation(db, record, invitation_id)
    if inv.ended_at is not None or record.status != "active":
        raise HTTPException(409, "the invitation has ended")
    if inv.consent != "pending":
        raise HTTPException(409, f"the invitation was already {inv.consent}")
    inv.consent = "accepted" if body.accepted else "refused"
    inv.decided_at = utcnow()
    if not body.accepted:
        inv.ended_at = inv.decided_at
    db.commit()
    return invitation_out(inv)


@router.post("/host/invitations/{invitation_id}/left", response_model=InvitationOut, responses=ERRORS)
def host_guest_left(db: DbSession, record: HostSessionDep, invitation_id: RowId) -> InvitationOut:
    """The invited agent's connection ended (it left, or the host closed it)."""
    inv = _host_invitation(db, record, invitation_id)
    _mark_left(inv)
    db.commit()
    return invitation_out(inv)
