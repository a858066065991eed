"""The host's API (the customer side): what it must enforce, its report, refusal and the satisfaction survey."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from opensupport.server.api.deps import HostSessionDep, peer_address
from opensupport.server.api.schemas import HostReport, HostSession, HostStatusUpdate, Message, Satisfaction
from opensupport.server.db.models import Agent, Company
from opensupport.server.options import effective_options
from opensupport.server.sessions import SessionStateError, set_status
from opensupport.server.web.deps import DbSession

router = APIRouter(prefix="/api/host", tags=["host"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Message},
    409: {"model": Message},
    422: {"description": "invalid input"},
}


def _options(db: DbSession, agent_id: int | None) -> dict[str, bool]:
    agent = db.get(Agent, agent_id) if agent_id is not None else None
    return agent.effective_options() if agent is not None else effective_options({})


@router.get("/session", response_model=HostSession, responses=ERRORS)
def host_session(db: DbSession, record: HostSessionDep) -> HostSession:
    """Who is connecting and the options the host must enforce for this session."""
    company = db.get(Company, record.company_id)
    return HostSession(
        routing_id=record.routing_id,
        status=record.status,
        agent_login_id=record.agent_login_id,
        agent_name=record.agent_name,
        service_name=(company.service_name or company.name) if company else "",
        options=_options(db, record.agent_id),
    )


@router.post("/report", response_model=Message, responses=ERRORS)
def host_report(request: Request, db: DbSession, record: HostSessionDep, body: HostReport) -> Message:
    """The customer's PC: name, PC name, OS, private address (the public one is the connection's)."""
    if record.ended_at is not None:
        raise HTTPException(409, "the session has ended")
    record.customer_ip_public = peer_address(request)
    for field, column in (
        ("customer_name", "customer_name"),
        ("pc_name", "customer_pc_name"),
        ("os", "customer_os"),
        ("private_ip", "customer_ip_private"),
        ("email", "customer_email"),
        ("phone", "customer_phone"),
    ):
        value = getattr(body, field)
        if value is not None:
            setattr(record, column, value)
    db.commit()
    return Message(detail="recorded")


@router.post("/status", response_model=Message, responses=ERRORS)
def host_status(db: DbSession, record: HostSessionDep, body: HostStatusUpdate) -> Message:
    """The customer refused the connection (접속전 고객동의), or the host lost the session."""
    if body.status == "refused" and record.status != "waiting":
        raise HTTPException(409, f"the session is {record.status}; only a waiting session can be refused")
    try:
        set_status(record, body.status)
    except SessionStateError as exc:
        raise HTTPException(409, str(exc)) from None
    db.commit()
    return Message(detail=record.status)


@router.post("/satisfaction", response_model=Message, responses=ERRORS)
def satisfaction(db: DbSession, record: HostSessionDep, body: Satisfaction) -> Message:
    """고객 만족도 조사: the customer's answer (1..5 or none) and comment; only when the agent's survey is on."""
    if not _options(db, record.agent_id)["satisfaction_survey"]:
        raise HTTPException(409, "the satisfaction survey is off for this agent")
    if record.satisfaction is not None or record.customer_comment:
        raise HTTPException(409, "the survey was already answered")
    record.satisfaction = body.satisfaction
    record.customer_comment = body.comment or None
    db.commit()
    return Message(detail="thank you")
