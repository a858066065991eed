"""마이페이지: the administrator's own details, the licence line and the customer connection URL."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from opensupport.server.agents import EMAIL_RE, PASSWORD_MAX, PASSWORD_MIN, PHONE_RE, licence_usage
from opensupport.server.db.models import AdminUser, Agent
from opensupport.server.i18n import gettext as _
from opensupport.server.security import hash_password, verify_password
from opensupport.server.web.audit import record_change
from opensupport.server.web.deps import (
    SESSION_COOKIE,
    CsrfChecked,
    CurrentAdmin,
    DbSession,
    rotate_session_nonce,
    session_cookie_value,
    settings_of,
)
from opensupport.server.web.middleware import cookie_header, is_secure
from opensupport.server.web.templating import render
from sqlalchemy import select

router = APIRouter(include_in_schema=False)

URL = "/manage/mypage/"


def _page(
    request: Request,
    db: DbSession,
    admin: AdminUser,
    values: dict[str, str],
    errors: list[str],
    status: int = 200,
) -> Response:
    first_agent = db.scalar(
        select(Agent.login_id).where(Agent.company_id == admin.company_id).order_by(Agent.login_id)
    )
    return render(
        request,
        "mypage.html",
        {
            "section": "mypage",
            "values": values,
            "errors": errors,
            "usage": licence_usage(db, admin.company),
            "url_base": f"{request.url.netloc}/s/",
            "example_agent": first_agent,
            "saved": request.query_params.get("done") == "saved",
        },
        status_code=status,
    )


def _values_of(admin: AdminUser) -> dict[str, str]:
    return {
        "company_name": admin.company.name,
        "service_name": admin.company.service_name,
        "name": admin.name,
        "phone": admin.phone,
        "email": admin.email,
    }


@router.get(URL, response_class=HTMLResponse)
def mypage(request: Request, db: DbSession, admin: CurrentAdmin) -> Response:
    """마이페이지."""
    return _page(request, db, admin, _values_of(admin), [])


@router.post(URL, dependencies=[CsrfChecked])
def save_mypage(
    request: Request,
    db: DbSession,
    admin: CurrentAdmin,
    company_name: Annotated[str, Form(max_length=1000)] = "",
    service_name: Annotated[str, Form(max_length=1000)] = "",
    name: Annotated[str, Form(max_length=1000)] = "",
    phone: Annotated[str, Form(max_length=1000)] = "",
    email: Annotated[str, Form(max_length=1000)] = "",
    current_password: Annotated[str, Form(max_length=1000)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    password_confirm: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """수정하기: save the details; the password changes only when a new one is typed (and confirmed)."""
    values = {
        "company_name": company_name.strip(),
        "service_name": service_name.strip(),
        "name": name.strip(),
        "phone": phone.strip(),
        "email": email.strip(),
    }
    errors: list[str] = []
    if not values["company_name"] or len(values["company_name"]) > 100:
        errors.append(_("Enter the company name."))
    if len(values["service_name"]) > 100 or len(values["name"]) > 100:
        errors.append(_("The name is too long (at most 100 characters)."))
    if not PHONE_RE.fullmatch(values["phone"]):
        errors.append(_("The phone number may contain only digits, spaces and + - ( )."))
    if values["email"] and (not EMAIL_RE.fullmatch(values["email"]) or len(values["email"]) > 200):
        errors.append(_("The e-mail address is not valid."))
    change_password = bool(password or password_confirm)
    if change_password:
        if len(password) < PASSWORD_MIN or len(password) > PASSWORD_MAX:
            errors.append(_("The password must be 8 to 128 characters long."))
        elif password != password_confirm:
            errors.append(_("The password and its confirmation do not match."))
        elif not verify_password(admin.password_hash, current_password):
            errors.append(_("The current password is incorrect."))
    if errors:
        return _page(request, db, admin, values, errors, status=400)
    before = _values_of(admin)
    admin.company.name = values["company_name"]
    admin.company.service_name = values["service_name"]
    admin.name, admin.phone, admin.email = values["name"], values["phone"], values["email"]
    changed = [f"{k}: {before[k]} → {values[k]}" for k in values if before[k] != values[k]]
    if changed:
        record_change(db, admin, "admin.update", admin.login_id, "; ".join(changed))
    response = RedirectResponse(URL + "?done=saved", status_code=303)
    if change_password:
        admin.password_hash = hash_password(password)
        rotate_session_nonce(admin)  # other browsers logged in as this administrator are logged out
        record_change(db, admin, "admin.password", admin.login_id)
        settings = settings_of(request)
        response.headers.append(
            "set-cookie",
            cookie_header(
                SESSION_COOKIE,
                session_cookie_value(settings, admin),
                secure=is_secure(request),
                max_age=settings.admin_session_s,
            ),
        )
    db.commit()
    return response
