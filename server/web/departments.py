"""부서 관리: list the company's departments with their agents; create, rename, delete.

Deleting a department that has agents asks where they go (another department or none) and moves them in
the same transaction: agents are never dropped with their department.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from opensupport.server.db.models import AdminUser, Agent, Department
from opensupport.server.i18n import gettext as _
from opensupport.server.web.audit import record_change
from opensupport.server.web.deps import CsrfChecked, CurrentAdmin, DbSession, RowId
from opensupport.server.web.templating import render
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

router = APIRouter(include_in_schema=False)

BASE = "/manage/remote/departments/"
NAME_MAX = 100


def company_department(db: Session, admin: AdminUser, department_id: int) -> Department:
    """The department ``department_id`` of the administrator's company; 404 for any other."""
    department = db.scalar(
        select(Department).where(Department.id == department_id, Department.company_id == admin.company_id)
    )
    if department is None:
        raise HTTPException(404, _("The department was not found."))
    return department


def name_problem(db: Session, admin: AdminUser, name: str, current: Department | None = None) -> str | None:
    """Why ``name`` cannot be a department name of the company, or None."""
    if not name:
        return _("Enter the department name.")
    if len(name) > NAME_MAX:
        return _("The department name is too long (at most 100 characters).")
    clash = db.scalar(
        select(Department.id).where(Department.company_id == admin.company_id, Department.name == name)
    )
    if clash is not None and (current is None or clash != current.id):
        return _("A department with this name already exists.")
    return None


def _list_page(
    request: Request, db: Session, admin: AdminUser, *, error: str | None = None, status: int = 200
) -> Response:
    departments = db.scalars(
        select(Department).where(Department.company_id == admin.company_id).order_by(Department.name)
    ).all()
    agents = db.scalars(
        select(Agent).where(Agent.company_id == admin.company_id).order_by(Agent.login_id)
    ).all()
    members: dict[int | None, list[Agent]] = {}
    for agent in agents:
        members.setdefault(agent.department_id, []).append(agent)
    return render(
        request,
        "remote/departments.html",
        {
            "section": "remote",
            "page": "departments",
            "departments": departments,
            "members": members,
            "error": error,
            "notice": request.query_params.get("done"),
        },
        status_code=status,
    )


@router.get(BASE, response_class=HTMLResponse)
def departments(request: Request, db: DbSession, admin: CurrentAdmin) -> Response:
    """부서 관리: every department with its agents' count, IDs and names."""
    return _list_page(request, db, admin)


@router.post(BASE + "new", dependencies=[CsrfChecked])
def create_department(
    request: Request, db: DbSession, admin: CurrentAdmin, name: Annotated[str, Form(max_length=1000)] = ""
) -> Response:
    """새부서 생성."""
    name = name.strip()
    problem = name_problem(db, admin, name)
    if problem:
        return _list_page(request, db, admin, error=problem, status=400)
    db.add(Department(company_id=admin.company_id, name=name))
    record_change(db, admin, "department.create", name)
    try:
        db.commit()
    except IntegrityError:  # the same name created at the same moment by another request
        db.rollback()
        return _list_page(
            request, db, admin, error=_("A department with this name already exists."), status=400
        )
    return RedirectResponse(BASE + "?done=created", status_code=303)


@router.get(BASE + "{department_id}/rename", response_class=HTMLResponse)
def rename_form(request: Request, db: DbSession, admin: CurrentAdmin, department_id: RowId) -> Response:
    """부서이름수정: the form."""
    department = company_department(db, admin, department_id)
    return render(
        request,
        "remote/department_rename.html",
        {"section": "remote", "page": "departments", "department": department, "name": department.name},
    )


@router.post(BASE + "{department_id}/rename", dependencies=[CsrfChecked])
def rename_department(
    request: Request,
    db: DbSession,
    admin: CurrentAdmin,
    department_id: RowId,
    name: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """부서이름수정: save."""
    department = company_department(db, admin, department_id)
    name = name.strip()
    problem = name_problem(db, admin, name, department)
    if problem:
        return render(
            request,
            "remote/department_rename.html",
            {
                "section": "remote",
                "page": "departments",
                "department": department,
                "name": name,
                "error": problem,
            },
            status_code=400,
        )
    record_change(db, admin, "department.rename", department.name, f"{department.name} → {name}")
    department.name = name
    db.commit()
    return RedirectResponse(BASE + "?done=renamed", status_code=303)


@router.get(BASE + "{department_id}/delete", response_class=HTMLResponse)
def delete_form(request: Request, db: DbSession, admin: CurrentAdmin, department_id: RowId) -> Response:
    """부서 삭제: confirm, and choose where the department's agents go."""
    department = company_department(db, admin, department_id)
    return _delete_page(request, db, admin, department)


def _delete_page(
    request: Request, db: Session, admin: AdminUser, department: Department, error: str | None = None
) -> Response:
    agents = db.scalars(
        select(Agent).where(Agent.company_id == admin.company_id, Agent.department_id == department.id)
        .order_by(Agent.login_id)
    ).all()  # fmt: skip
    others = db.scalars(
        select(Department).where(Department.company_id == admin.company_id, Department.id != department.id)
        .order_by(Department.name)
    ).all()  # fmt: skip
    return render(
        request,
        "remote/department_delete.html",
        {
            "section": "remote",
            "page": "departments",
            "department": department,
            "agents": agents,
            "others": others,
            "error": error,
        },
        status_code=400 if error else 200,
    )


@router.post(BASE + "{department_id}/delete", dependencies=[CsrfChecked])
def delete_department(
    request: Request,
    db: DbSession,
    admin: CurrentAdmin,
    department_id: RowId,
    move_to: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """부서 삭제: move the agents to ``move_to`` (a department ID, or ``none``), then delete."""
    department = company_department(db, admin, department_id)
    count = db.scalar(
        select(func.count()).where(Agent.company_id == admin.company_id, Agent.department_id == department.id)
    )
    target: Department | None = None
    if count:
        if move_to == "none":
            target = None
        elif move_to.isdigit() and len(move_to) < 10 and int(move_to) != department.id:
            target = company_department(db, admin, int(move_to))
        else:
            return _delete_page(
                request, db, admin, department, _("Choose where the agents of this department go.")
            )
        db.execute(
            update(Agent)
            .where(Agent.company_id == admin.company_id, Agent.department_id == department.id)
            .values(department_id=target.id if target else None)
        )
    detail = ""
    if count:
        detail = _("{count} agents moved to {target}").format(
            count=count, target=target.name if target else _("No department")
        )
    record_change(db, admin, "department.delete", department.name, detail)
    db.delete(department)
    db.commit()
    return RedirectResponse(BASE + "?done=deleted", status_code=303)
