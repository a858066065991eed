"""The agent's API (the viewer): login, heartbeat, options, sessions and the end-of-session report."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import JSONResponse
from opensupport.server.api.deps import CurrentAgent, peer_address
from opensupport.server.api.schemas import (
    AgentInfo,
    AgentLogin,
    AgentLoginResult,
    EndReport,
    FaultTypeOut,
    HeartbeatResult,
    Message,
    OpenSession,
    SessionCreate,
    SessionCreated,
    SessionInfo,
    StatusUpdate,
)
from opensupport.server.db.models import OPEN_STATUSES, Agent, FaultType, SupportRecord, utcnow
from opensupport.server.security import LoginThrottle, new_token, verify_password
from opensupport.server.sessions import SessionStateError, create_session, end_open_sessions_of, set_status
from opensupport.server.web.deps import DbSession, settings_of
from sqlalchemy import select

router = APIRouter(prefix="/api", tags=["agent"])

RecordId = Annotated[int, Path(ge=1, le=2**31 - 1)]
IP_FREE_FAILURES = 10

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Message},
    404: {"model": Message},
    422: {"description": "invalid input"},
}


def _iso(value: object) -> str | None:
    return value.isoformat() if value is not None else None  # type: ignore[attr-defined]


def customer_url(request: Request, login_id: str) -> str:
    return f"{request.url.scheme}://{request.url.netloc}/s/{login_id}"


def _open_sessions(db: DbSession, agent: Agent) -> list[OpenSession]:
    rows = db.scalars(
        select(SupportRecord)
        .where(SupportRecord.agent_id == agent.id, SupportRecord.status.in_(OPEN_STATUSES))
        .order_by(SupportRecord.id)
    ).all()
    return [
        OpenSession(
            id=r.id, routing_id=r.routing_id, status=r.status, created_at=r.created_at.isoformat(),
            started_at=_iso(r.started_at),
        )
        for r in rows
    ]  # fmt: skip


def session_info(record: SupportRecord) -> SessionInfo:
    return SessionInfo(
        id=record.id,
        routing_id=record.routing_id,
        status=record.status,
        agent_login_id=record.agent_login_id,
        customer_name=record.customer_name,
        customer_pc_name=record.customer_pc_name,
        customer_os=record.customer_os,
        customer_ip_public=record.customer_ip_public,
        customer_ip_private=record.customer_ip_private,
        created_at=record.created_at.isoformat(),
        started_at=_iso(record.started_at),
        ended_at=_iso(record.ended_at),
        duration_s=record.duration_s,
        fault_type_id=record.fault_type_id,
        fault_type_name=record.fault_type_name,
        content=record.content,
        resolved=record.resolved,
        satisfaction=record.satisfaction,
        customer_comment=record.customer_comment,
    )


@router.post(
    "/agent/login",
    response_model=AgentLoginResult,
    responses={401: {"model": Message}, 409: {"model": Message}, 429: {"model": Message}, 422: {}},
)
def agent_login(request: Request, db: DbSession, body: AgentLogin) -> AgentLoginResult | JSONResponse:
    """Log an agent in from the viewer and return its token and options.

    If the agent is already online elsewhere: with 상담원 강제 로그인 (``force_login``) on, this login cuts
    the earlier one off (its token stops working, its open sessions are closed); with it off, this login is
    refused with 409. Failed logins are throttled per agent and per address (429 with Retry-After).
    """
    throttle: LoginThrottle = request.app.state.login_throttle
    peer = peer_address(request) or "unknown"
    account_key, ip_key = "agent:" + body.login_id.lower(), "agent-ip:" + peer
    wait = max(
        throttle.retry_after(account_key), throttle.retry_after(ip_key, free_failures=IP_FREE_FAILURES)
    )
    if wait > 0:
        seconds = math.ceil(wait)
        return JSONResponse(
            {"detail": f"too many failed logins; try again in {seconds} seconds"},
            status_code=429,
            headers={"Retry-After": str(seconds)},
        )
    agent = db.scalar(select(Agent).where(Agent.login_id == body.login_id))
    if not verify_password(agent.password_hash if agent else None, body.password) or agent is None:
        throttle.failed(account_key)
        throttle.failed(ip_key)
        return JSONResponse({"detail": "the ID or password is incorrect"}, status_code=401)
    throttle.succeeded(account_key)
    settings = settings_of(request)
    now = utcnow()
    if agent.is_online(now, settings.online_window_s):
        if not agent.effective_options()["force_login"]:
            return JSONResponse(
                {"detail": "this agent is already logged in elsewhere (forced login is off)"}, status_code=409
            )
        end_open_sessions_of(db, agent)
    token, digest = new_token()
    agent.token_hash = digest
    agent.last_login_at = agent.last_seen_at = now
    agent.last_ip_public = peer_address(request)
    agent.last_ip_private = body.private_ip
    db.commit()
    department = agent.department.name if agent.department else None
    return AgentLoginResult(
        token=token,
        agent=AgentInfo(
            login_id=agent.login_id,
            name=agent.name,
            company_name=agent.company_name,
            department=department,
            can_pc=agent.can_pc,
            can_mobile=agent.can_mobile,
        ),
        options=agent.effective_options(),
        heartbeat_interval_s=settings.heartbeat_interval_s,
        customer_url=customer_url(request, agent.login_id),
    )


@router.post("/agent/heartbeat", response_model=HeartbeatResult, responses=ERRORS)
def heartbeat(request: Request, db: DbSession, agent: CurrentAgent) -> HeartbeatResult:
    """Keep the agent online (it goes offline when heartbeats stop); returns its options and open sessions."""
    agent.last_seen_at = utcnow()
    db.commit()
    return HeartbeatResult(online=True, options=agent.effective_options(), sessions=_open_sessions(db, agent))


@router.post("/agent/logout", response_model=Message, responses=ERRORS)
def agent_logout(db: DbSession, agent: CurrentAgent) -> Message:
    """Log the agent out: the token stops working and the agent shows offline at once."""
    agent.token_hash = None
    agent.last_seen_at = None
    db.commit()
    return Message(detail="logged out")


@router.get("/agent/options", response_model=dict[str, bool], responses=ERRORS)
def agent_options(agent: CurrentAgent) -> dict[str, bool]:
    """The agent's effective options: every option of the manual with its value (defaults where unset)."""
    return agent.effective_options()


@router.get("/agent/sessions", response_model=list[OpenSession], responses=ERRORS)
def agent_sessions(db: DbSession, agent: CurrentAgent) -> list[OpenSession]:
    """The agent's sessions still waiting or in progress (including ones the administrator created)."""
    return _open_sessions(db, agent)


@router.get("/fault-types", response_model=list[FaultTypeOut], responses=ERRORS)
def fault_types(db: DbSession, agent: CurrentAgent) -> list[FaultTypeOut]:
    """The company's fault types, in the administrator's order, for the end-of-session report."""
    rows = db.scalars(
        select(FaultType)
        .where(FaultType.company_id == agent.company_id)
        .order_by(FaultType.position, FaultType.id)
    ).all()
    return [FaultTypeOut(id=f.id, name=f.name, position=f.position) for f in rows]


@router.post("/sessions", response_model=SessionCreated, status_code=201, responses=ERRORS)
def create_agent_session(
    request: Request, db: DbSession, agent: CurrentAgent, body: SessionCreate
) -> SessionCreated:
    """상담 생성 from the viewer: the server issues the routing id (the public half of the code)."""
    record, host_token = create_session(
        db, agent, ip_public=peer_address(request), ip_private=body.private_ip, pc_name=body.pc_name
    )
    db.commit()
    return SessionCreated(
        id=record.id,
        routing_id=record.routing_id,
        host_token=host_token,
        status=record.status,
        customer_url=customer_url(request, agent.login_id),
    )


def _own_session(db: DbSession, agent: Agent, record_id: int) -> SupportRecord:
    record = db.scalar(
        select(SupportRecord).where(SupportRecord.id == record_id, SupportRecord.agent_id == agent.id)
    )
    if record is None:
        raise HTTPException(404, "no such session of this agent")
    return record


@router.get("/sessions/{record_id}", response_model=SessionInfo, responses=ERRORS)
def get_session(db: DbSession, agent: CurrentAgent, record_id: RecordId) -> SessionInfo:
    """One of the agent's sessions (the viewer sees here when the administrator ended it)."""
    return session_info(_own_session(db, agent, record_id))


@router.post(
    "/sessions/{record_id}/claim", response_model=SessionCreated, responses=ERRORS | {409: {"model": Message}}
)
def claim_session(
    request: Request, db: DbSession, agent: CurrentAgent, record_id: RecordId
) -> SessionCreated:
    """Take over a waiting session (e.g. one the administrator created): issues a fresh host token."""
    record = _own_session(db, agent, record_id)
    if record.status != "waiting":
        raise HTTPException(409, f"the session is {record.status}, not waiting")
    host_token, record.host_token_hash = new_token()
    record.agent_ip_public = peer_address(request)
    db.commit()
    return SessionCreated(
        id=record.id, routing_id=record.routing_id, host_token=host_token, status=record.status,
        customer_url=customer_url(request, agent.login_id),
    )  # fmt: skip


@router.post(
    "/sessions/{record_id}/status", response_model=SessionInfo, responses=ERRORS | {409: {"model": Message}}
)
def update_status(db: DbSession, agent: CurrentAgent, record_id: RecordId, body: StatusUpdate) -> SessionInfo:
    """Move a session on: active (the customer joined), ended, disconnected, fault or refused."""
    record = _own_session(db, agent, record_id)
    try:
        set_status(record, body.status)
    except SessionStateError as exc:
        raise HTTPException(409, str(exc)) from None
    db.commit()
    return session_info(record)


@router.post("/sessions/{record_id}/report", response_model=SessionInfo, responses=ERRORS)
def end_report(db: DbSession, agent: CurrentAgent, record_id: RecordId, body: EndReport) -> SessionInfo:
    """The agent's end-of-session report: fault type, what was done, whether it was resolved."""
    record = _own_session(db, agent, record_id)
    if body.fault_type_id is not None:
        fault = db.scalar(
            select(FaultType).where(
                FaultType.id == body.fault_type_id, FaultType.company_id == agent.company_id
            )
        )
        if fault is None:
            raise HTTPException(422, "unknown fault type")
        record.fault_type_id, record.fault_type_name = fault.id, fault.name
    else:
        record.fault_type_id = record.fault_type_name = None
    record.content = body.content
    record.resolved = body.resolved
    db.commit()
    return session_info(record)
