"""상담원 생성 / 상담원 관리: create agents (with the live ID check and the licence counter), list them
with their live status, edit them and their 40 options, delete them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from opensupport.server.agents import (
    AgentForm,
    apply_agent_form,
    licence_usage,
    login_id_problem,
    validate_agent_form,
)
from opensupport.server.db.models import AdminUser, Agent, Department, utcnow
from opensupport.server.i18n import gettext as _
from opensupport.server.options import OPTIONS, OptionGroup, options_in
from opensupport.server.security import hash_password
from opensupport.server.web.audit import record_change
from opensupport.server.web.deps import CsrfChecked, CurrentAdmin, DbSession, RowId, settings_of
from opensupport.server.web.templating import format_datetime, render
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

router = APIRouter(include_in_schema=False)

BASE = "/manage/remote/agents/"


async def form_data(request: Request) -> FormData:
    """The posted form (read in the event loop so that the handler itself can stay synchronous)."""
    return await request.form()


Form = Annotated[FormData, Depends(form_data)]


def _text(form: FormData, name: str, limit: int = 1000) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def parse_agent_form(form: FormData) -> AgentForm:
    """The agent fields of a posted form (unchecked boxes are absent, hence False)."""
    department = _text(form, "department_id", 20)
    return AgentForm(
        name=_text(form, "name"),
        login_id=_text(form, "login_id", 100),
        password=_text(form, "password", 200),
        password_confirm=_text(form, "password_confirm", 200),
        company_name=_text(form, "company_name"),
        department_id=int(department) if department.isdigit() and len(department) < 10 else None,
        phone=_text(form, "phone", 100),
        email=_text(form, "email", 300),
        can_pc=form.get("can_pc") is not None,
        can_mobile=form.get("can_mobile") is not None,
    )


def company_agent(db: Session, admin: AdminUser, agent_id: int) -> Agent:
    """The agent ``agent_id`` of the administrator's company; 404 for any other."""
    agent = db.scalar(select(Agent).where(Agent.id == agent_id, Agent.company_id == admin.company_id))
    if agent is None:
        raise HTTPException(404, _("The agent was not found."))
    return agent


def _departments(db: Session, admin: AdminUser) -> list[Department]:
    return list(
        db.scalars(
            select(Department).where(Department.company_id == admin.company_id).order_by(Department.name)
        ).all()
    )


def _create_page(
    request: Request, db: Session, admin: AdminUser, form: AgentForm, status: int = 200
) -> Response:
    return render(
        request,
        "remote/agent_new.html",
        {
            "section": "remote",
            "page": "agent_new",
            "form": form,
            "departments": _departments(db, admin),
            "usage": licence_usage(db, admin.company),
        },
        status_code=status,
    )


@router.get(BASE + "new", response_class=HTMLResponse)
def new_agent_form(request: Request, db: DbSession, admin: CurrentAdmin) -> Response:
    """상담원 생성: the empty form with the licence counter."""
    usage = licence_usage(db, admin.company)
    form = AgentForm(
        company_name=admin.company.name,
        can_pc=usage.pc_used < usage.pc_total,
        can_mobile=usage.pc_used >= usage.pc_total and usage.mobile_used < usage.mobile_total,
    )
    return _create_page(request, db, admin, form)


@router.get(BASE + "check-id")
def check_login_id(
    db: DbSession, admin: CurrentAdmin, login_id: str = Query("", max_length=100)
) -> JSONResponse:
    """The live ID check of the create form: ``{"available": bool, "message": str}``."""
    problem = login_id_problem(db, login_id.strip())
    message = problem or _("This ID is available.")
    return JSONResponse({"available": problem is None, "message": message})


@router.post(BASE + "new", dependencies=[CsrfChecked])
def create_agent(request: Request, db: DbSession, admin: CurrentAdmin, posted: Form) -> Response:
    """상담원 생성: validate, refuse beyond the licences, create, show the summary."""
    form = parse_agent_form(posted)
    db.refresh(admin.company, with_for_update=True)  # serialise licence checks of one company (PostgreSQL)
    form.errors = validate_agent_form(db, admin.company, form, existing=None)
    if form.errors:
        form.password = form.password_confirm = ""
        return _create_page(request, db, admin, form, status=400)
    agent = Agent(
        company_id=admin.company_id,
        login_id=form.login_id,
        name=form.name,
        password_hash=hash_password(form.password),
        options={},
    )
    apply_agent_form(agent, form)
    db.add(agent)
    record_change(db, admin, "agent.create", agent.login_id, agent.name)
    try:
        db.commit()
    except IntegrityError:  # the same ID created at the same moment by another request
        db.rollback()
        form.errors, form.password, form.password_confirm = [_("This ID is already in use.")], "", ""
        return _create_page(request, db, admin, form, status=400)
    return render(
        request, "remote/agent_created.html", {"section": "remote", "page": "agent_new", "agent": agent}
    )


def _agent_rows(db: Session, admin: AdminUser, q: str, field: str, sort: str) -> list[Agent]:
    query = select(Agent).where(Agent.company_id == admin.company_id)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        if field == "name":
            query = query.where(Agent.name.ilike(pattern, escape="\\"))
        elif field == "login_id":
            query = query.where(Agent.login_id.ilike(pattern, escape="\\"))
        else:
            query = query.where(
                or_(Agent.name.ilike(pattern, escape="\\"), Agent.login_id.ilike(pattern, escape="\\"))
            )
    order = Agent.login_id.desc() if sort == "desc" else Agent.login_id.asc()
    return list(db.scalars(query.order_by(order)).all())


def agent_status(agent: Agent, request: Request) -> dict[str, Any]:
    """The live fields of one row of the agents list."""
    window = settings_of(request).online_window_s
    return {
        "id": agent.id,
        "login_id": agent.login_id,
        "online": agent.is_online(utcnow(), window),
        "last_login_at": format_datetime(agent.last_login_at) or "0000-00-00 00:00:00",
        "ip_public": agent.last_ip_public or "",
        "ip_private": agent.last_ip_private or "",
    }


@router.get(BASE, response_class=HTMLResponse)
def agents(
    request: Request,
    db: DbSession,
    admin: CurrentAdmin,
    q: str = Query("", max_length=100),
    field: str = Query("login_id", pattern="^(login_id|name|any)$"),
    sort: str = Query("asc", pattern="^(asc|desc)$"),
) -> Response:
    """상담원 관리: search, licence usage, the list with live status."""
    rows = _agent_rows(db, admin, q.strip(), field, sort)
    return render(
        request,
        "remote/agents.html",
        {
            "section": "remote",
            "page": "agents",
            "agents": rows,
            "status": {a.id: agent_status(a, request) for a in rows},
            "usage": licence_usage(db, admin.company),
            "agent_count": db.scalar(select(func.count()).where(Agent.company_id == admin.company_id)) or 0,
            "q": q,
            "field": field,
            "sort": sort,
            "notice": request.query_params.get("done"),
        },
    )


@router.get(BASE + "status.json")
def agents_status(request: Request, db: DbSession, admin: CurrentAdmin) -> JSONResponse:
    """Live status of every agent of the company (polled by the agents list)."""
    rows = db.scalars(select(Agent).where(Agent.company_id == admin.company_id)).all()
    return JSONResponse({"agents": [agent_status(a, request) for a in rows]})


def _edit_page(
    request: Request, db: Session, admin: AdminUser, agent: Agent, form: AgentForm, values: dict[str, bool],
    status: int = 200,
) -> Response:  # fmt: skip
    return render(
        request,
        "remote/agent_edit.html",
        {
            "section": "remote",
            "page": "agents",
            "agent": agent,
            "form": form,
            "departments": _departments(db, admin),
            "groups": [
                (_("Settings options"), options_in(OptionGroup.SETTINGS)),
                (_("Feature options"), options_in(OptionGroup.FEATURES)),
                (_("Mobile feature options"), options_in(OptionGroup.MOBILE)),
            ],
            "values": values,
            "saved": request.query_params.get("done") == "saved",
        },
        status_code=status,
    )


def _form_of(agent: Agent) -> AgentForm:
    return AgentForm(
        name=agent.name,
        login_id=agent.login_id,
        company_name=agent.company_name,
        department_id=agent.department_id,
        phone=agent.phone,
        email=agent.email,
        can_pc=agent.can_pc,
        can_mobile=agent.can_mobile,
    )


@router.get(BASE + "{agent_id}", response_class=HTMLResponse)
def edit_agent_form(request: Request, db: DbSession, admin: CurrentAdmin, agent_id: RowId) -> Response:
    """정보 수정 and 기능 및 설정 옵션 of one agent."""
    agent = company_agent(db, admin, agent_id)
    return _edit_page(request, db, admin, agent, _form_of(agent), agent.effective_options())


@router.post(BASE + "{agent_id}", dependencies=[CsrfChecked])
def edit_agent(
    request: Request, db: DbSession, admin: CurrentAdmin, agent_id: RowId, posted: Form
) -> Response:
    """수정하기: save the details (all but the ID; a blank password keeps the old one) and the options."""
    agent = company_agent(db, admin, agent_id)
    form = parse_agent_form(posted)
    form.login_id = agent.login_id
    values = {o.key: posted.get("opt_" + o.key) is not None for o in OPTIONS}
    db.refresh(admin.company, with_for_update=True)
    form.errors = validate_agent_form(db, admin.company, form, existing=agent)
    if form.errors:
        form.password = form.password_confirm = ""
        return _edit_page(request, db, admin, agent, form, values, status=400)
    before = _form_of(agent)
    apply_agent_form(agent, form)
    changed = [
        f"{name}: {getattr(before, name)} → {getattr(form, name)}"
        for name in ("name", "company_name", "department_id", "phone", "email", "can_pc", "can_mobile")
        if getattr(before, name) != getattr(form, name)
    ]
    if form.password:
        changed.append("password")
    if changed:
        record_change(db, admin, "agent.update", agent.login_id, "; ".join(changed))
    old_values = agent.effective_options()
    option_changes = [
        f"{key}: {'on' if old_values[key] else 'off'} → {'on' if value else 'off'}"
        for key, value in values.items()
        if old_values[key] != value
    ]
    if option_changes:
        agent.options = values  # a new dict, so SQLAlchemy sees the JSON change
        record_change(db, admin, "agent.options", agent.login_id, "; ".join(option_changes))
    db.commit()
    return RedirectResponse(f"{BASE}{agent.id}?done=saved", status_code=303)


@router.post(BASE + "{agent_id}/delete", dependencies=[CsrfChecked])
def delete_agent(db: DbSession, admin: CurrentAdmin, agent_id: RowId) -> Response:
    """상담원 삭제 (its past records keep the agent's ID and name)."""
    agent = company_agent(db, admin, agent_id)
    record_change(db, admin, "agent.delete", agent.login_id, agent.name)
    db.delete(agent)
    db.commit()
    return RedirectResponse(BASE + "?done=deleted", status_code=303)
