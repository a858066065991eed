"""The audit log of administrative changes (변경 기록): writing entries and the page that lists them."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from opensupport.server.db.models import AdminUser, AuditLog
from opensupport.server.i18n import gettext as _
from opensupport.server.web.deps import CurrentAdmin, DbSession
from opensupport.server.web.templating import render
from sqlalchemy import func, select
from sqlalchemy.orm import Session

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50


def record_change(db: Session, admin: AdminUser, action: str, target: str = "", detail: str = "") -> None:
    """Add an audit entry for a change ``admin`` made (in the caller's transaction).

    ``action`` is a dotted key such as ``agent.update``; ``target`` names what changed (an agent's ID, a
    department's name); ``detail`` says how (e.g. ``force_login: on → off``).
    """
    db.add(
        AuditLog(
            company_id=admin.company_id,
            actor=admin.login_id,
            action=action,
            target=target[:200],
            detail=detail,
        )
    )


def action_label(action: str) -> str:
    """The audit action in words, in the current language."""
    labels = {
        "company.create": _("Company created"),
        "department.create": _("Department created"),
        "department.rename": _("Department renamed"),
        "department.delete": _("Department deleted"),
        "agent.create": _("Agent created"),
        "agent.update": _("Agent changed"),
        "agent.options": _("Agent options changed"),
        "agent.delete": _("Agent deleted"),
        "session.create": _("Session created"),
        "session.end": _("Session ended by the administrator"),
        "admin.update": _("Administrator details changed"),
        "admin.password": _("Administrator password changed"),
        "fault_type.create": _("Fault type created"),
        "fault_type.update": _("Fault type changed"),
        "fault_type.move": _("Fault type moved"),
        "fault_type.delete": _("Fault type deleted"),
    }
    return labels.get(action, action)


@router.get("/manage/remote/audit/", response_class=HTMLResponse)
def audit_page(
    request: Request, db: DbSession, admin: CurrentAdmin, page: int = Query(1, ge=1, le=100000)
) -> Response:
    """변경 기록: the company's administrative changes, newest first."""
    where = AuditLog.company_id == admin.company_id
    total = db.scalar(select(func.count()).select_from(AuditLog).where(where)) or 0
    entries = db.scalars(
        select(AuditLog).where(where).order_by(AuditLog.at.desc(), AuditLog.id.desc())
        .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()  # fmt: skip
    pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    return render(
        request,
        "remote/audit.html",
        {
            "section": "remote",
            "page": "audit",
            "entries": entries,
            "action_label": action_label,
            "page_no": page,
            "pages": pages,
        },
    )
