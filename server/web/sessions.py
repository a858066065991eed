"""상담 생성, 상담 관리 and 장애 상황 관리: sessions created by the administrator, the live list of sessions
waiting and in progress (with force-end), and the sessions that ended in a fault or a dropped connection."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from opensupport.server.api.invitations import invitation_status
from opensupport.server.db.models import OPEN_STATUSES, AdminUser, Agent, SupportRecord
from opensupport.server.i18n import gettext as _
from opensupport.server.sessions import close_stale_sessions, create_session, set_status
from opensupport.server.web.audit import record_change
from opensupport.server.web.deps import CsrfChecked, CurrentAdmin, DbSession, RowId, settings_of
from opensupport.server.web.templating import format_datetime, render
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

router = APIRouter(include_in_schema=False)

BASE = "/manage/remote/sessions/"
FAULT_STATUSES = ("fault", "disconnected")
PAGE_SIZE = 50


def status_label(status: str) -> str:
    """A session status in words."""
    return {
        "waiting": _("Waiting"),
        "active": _("In progress"),
        "ended": _("Ended"),
        "disconnected": _("Disconnected"),
        "fault": _("Fault"),
        "refused": _("Refused by the customer"),
    }.get(status, status)


def customer_url(request: Request, login_id: str) -> str:
    """고객 접속 URL of an agent, on the host and scheme the administrator reached the server by."""
    return f"{request.url.scheme}://{request.url.netloc}/s/{login_id}"


def _open_sessions(request: Request, db: Session, admin: AdminUser) -> list[SupportRecord]:
    settings = settings_of(request)
    if close_stale_sessions(db, admin.company_id, settings.online_window_s, settings.silent_after):
        db.commit()
    return list(
        db.scalars(
            select(SupportRecord)
            .where(SupportRecord.company_id == admin.company_id, SupportRecord.status.in_(OPEN_STATUSES))
            .options(selectinload(SupportRecord.invitations))  # the record page's relation, in one query
            .order_by(SupportRecord.created_at.desc(), SupportRecord.id.desc())
        ).all()
    )


def invited_agents(record: SupportRecord) -> str:
    """상담원 초대: the invited agents in the session now (not those refused, gone or not yet joined)."""
    return ", ".join(
        f"{inv.joined_login_id} ({inv.joined_name}) · {_('Control') if inv.control else _('View only')}"
        for inv in record.invitations
        if invitation_status(inv) == "joined"
    )


def session_row(record: SupportRecord) -> dict[str, Any]:
    """One row of the live session list."""
    return {
        "id": record.id,
        "agent_login_id": record.agent_login_id,
        "agent_name": record.agent_name,
        "status": record.status,
        "status_label": status_label(record.status),
        "routing_id": record.routing_id,
        "created_at": format_datetime(record.created_at),
        "started_at": format_datetime(record.started_at),
        "customer_name": record.customer_name or "",
        "customer_ip": " / ".join(x for x in (record.customer_ip_public, record.customer_ip_private) if x),
        "customer_pc_name": record.customer_pc_name or "",
        "invited": invited_agents(record),
    }


@router.get(BASE + "new", response_class=HTMLResponse)
def new_session_form(request: Request, db: DbSession, admin: CurrentAdmin) -> Response:
    """상담 생성: choose the agent."""
    agents = db.scalars(
        select(Agent).where(Agent.company_id == admin.company_id).order_by(Agent.login_id)
    ).all()
    return render(
        request, "remote/session_new.html", {"section": "remote", "page": "session_new", "agents": agents}
    )


@router.post(BASE + "new", dependencies=[CsrfChecked])
def create_session_for_agent(
    request: Request, db: DbSession, admin: CurrentAdmin, agent_id: Annotated[str, Form(max_length=20)] = ""
) -> Response:
    """상담 생성: a waiting session for the agent; its viewer picks it up and makes the secret half."""
    agent = None
    if agent_id.isdigit() and len(agent_id) < 10:
        agent = db.scalar(
            select(Agent).where(Agent.id == int(agent_id), Agent.company_id == admin.company_id)
        )
    if agent is None:
        agents = db.scalars(
            select(Agent).where(Agent.company_id == admin.company_id).order_by(Agent.login_id)
        ).all()
        return render(
            request,
            "remote/session_new.html",
            {"section": "remote", "page": "session_new", "agents": agents, "error": _("Choose the agent.")},
            status_code=400,
        )
    record, _host_token = create_session(db, agent)
    record_change(db, admin, "session.create", agent.login_id, record.routing_id)
    db.commit()
    return render(
        request,
        "remote/session_created.html",
        {
            "section": "remote",
            "page": "session_new",
            "record": record,
            "agent": agent,
            "customer_url": customer_url(request, agent.login_id),
        },
    )


@router.get(BASE, response_class=HTMLResponse)
def sessions(request: Request, db: DbSession, admin: CurrentAdmin) -> Response:
    """상담 관리: sessions waiting and in progress, updated live."""
    rows = [session_row(r) for r in _open_sessions(request, db, admin)]
    return render(
        request,
        "remote/sessions.html",
        {"section": "remote", "page": "sessions", "rows": rows, "notice": request.query_params.get("done")},
    )


@router.get(BASE + "live.json")
def sessions_live(request: Request, db: DbSession, admin: CurrentAdmin) -> JSONResponse:
    """The rows of 상담 관리 as JSON (polled by the page)."""
    return JSONResponse({"sessions": [session_row(r) for r in _open_sessions(request, db, admin)]})


@router.post(BASE + "{record_id}/end", dependencies=[CsrfChecked])
def force_end(db: DbSession, admin: CurrentAdmin, record_id: RowId) -> Response:
    """강제 종료: end a session from the admin web (the viewer sees the status at its next heartbeat)."""
    record = db.scalar(
        select(SupportRecord).where(
            SupportRecord.id == record_id, SupportRecord.company_id == admin.company_id
        )
    )
    if record is None:
        raise HTTPException(404, _("The session was not found."))
    if record.status in OPEN_STATUSES:
        set_status(record, "ended")
        record_change(db, admin, "session.end", record.agent_login_id, record.routing_id)
        db.commit()
    return RedirectResponse(BASE + "?done=ended", status_code=303)


@router.get("/manage/remote/faults/", response_class=HTMLResponse)
def faults(
    request: Request, db: DbSession, admin: CurrentAdmin, page: int = Query(1, ge=1, le=100000)
) -> Response:
    """장애 상황 관리: sessions that ended in a fault or a dropped connection, newest first."""
    _open_sessions(request, db, admin)  # closes silent sessions first, so they show here
    where = (SupportRecord.company_id == admin.company_id, SupportRecord.status.in_(FAULT_STATUSES))
    total = db.scalar(select(func.count()).select_from(SupportRecord).where(*where)) or 0
    records = db.scalars(
        select(SupportRecord).where(*where)
        .order_by(SupportRecord.created_at.desc(), SupportRecord.id.desc())
        .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()  # fmt: skip
    return render(
        request,
        "remote/faults.html",
        {
            "section": "remote",
            "page": "faults",
            "records": records,
            "status_label": status_label,
            "page_no": page,
            "pages": max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE),
        },
    )
