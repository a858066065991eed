"""Administrator login and logout at ``/manage/``, the language switch and the admin guide.

Failed logins are throttled per account and per client address (``LoginThrottle``): after a few failures
every further attempt waits a growing delay, and while the delay runs even the right password is refused.
"""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from opensupport.server.db.models import AdminUser
from opensupport.server.i18n import LANGUAGE_COOKIE, LANGUAGES
from opensupport.server.i18n import gettext as _
from opensupport.server.security import LoginThrottle, verify_password
from opensupport.server.web.deps import (
    SESSION_COOKIE,
    CsrfChecked,
    CurrentAdmin,
    DbSession,
    admin_from_cookie,
    rotate_session_nonce,
    session_cookie_value,
    settings_of,
)
from opensupport.server.web.middleware import cookie_header, is_secure
from opensupport.server.web.templating import render
from sqlalchemy import select

router = APIRouter(include_in_schema=False)

#: failures a single client address may make (over all accounts) before it is slowed down too
IP_FREE_FAILURES = 10


def client_address(request: Request) -> str:
    """The peer address of the request (the proxy's client when uvicorn trusts proxy headers)."""
    return request.client.host if request.client else "unknown"


@router.get("/manage/", response_class=HTMLResponse)
def manage_home(request: Request, db: DbSession) -> Response:
    """The login form, or for a logged-in administrator the way into the admin pages."""
    admin = admin_from_cookie(request, db)
    if admin is None:
        return render(request, "login.html")
    request.state.admin = admin
    return render(request, "home.html")


@router.post("/manage/login", dependencies=[CsrfChecked])
def login(
    request: Request,
    db: DbSession,
    login_id: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    """Check the administrator's ID and password and set the login cookie."""
    throttle: LoginThrottle = request.app.state.login_throttle
    account_key = "admin:" + login_id.strip().lower()
    ip_key = "admin-ip:" + client_address(request)
    wait = max(
        throttle.retry_after(account_key), throttle.retry_after(ip_key, free_failures=IP_FREE_FAILURES)
    )
    if wait > 0:
        seconds = math.ceil(wait)
        message = _("Too many failed logins. Try again in {seconds} seconds.").format(seconds=seconds)
        response = render(request, "login.html", {"error": message, "login_id": login_id}, status_code=429)
        response.headers["Retry-After"] = str(seconds)
        return response
    admin = db.scalar(select(AdminUser).where(AdminUser.login_id == login_id.strip()))
    if not verify_password(admin.password_hash if admin else None, password) or admin is None:
        throttle.failed(account_key)
        throttle.failed(ip_key)
        message = _("The ID or password is incorrect.")
        return render(request, "login.html", {"error": message, "login_id": login_id}, status_code=401)
    throttle.succeeded(account_key)
    if not admin.session_nonce:
        rotate_session_nonce(admin)
    db.commit()
    settings = settings_of(request)
    response = RedirectResponse("/manage/", status_code=303)
    response.headers.append(
        "set-cookie",
        cookie_header(
            SESSION_COOKIE,
            session_cookie_value(settings, admin),
            secure=is_secure(request),
            max_age=settings.admin_session_s,
        ),
    )
    return response


@router.post("/manage/logout", dependencies=[CsrfChecked])
def logout(request: Request, db: DbSession, admin: CurrentAdmin) -> Response:
    """End the administrator's login (every cookie issued to it stops working)."""
    rotate_session_nonce(admin)
    db.commit()
    response = RedirectResponse("/manage/", status_code=303)
    response.headers.append(
        "set-cookie", cookie_header(SESSION_COOKIE, "", secure=is_secure(request), max_age=0)
    )
    return response


@router.get("/lang/{language}")
def switch_language(request: Request, language: str, next: str = "/manage/") -> Response:
    """The language switch: remember ``language`` in a cookie and go back to ``next`` (a local path)."""
    target = next if next.startswith("/") and not next.startswith("//") and "\\" not in next else "/manage/"
    response = RedirectResponse(target, status_code=303)
    if language in LANGUAGES:
        response.headers.append(
            "set-cookie",
            cookie_header(LANGUAGE_COOKIE, language, secure=is_secure(request), max_age=365 * 86400),
        )
    return response


@router.get("/manage/guide/", response_class=HTMLResponse)
def guide(request: Request, db: DbSession) -> Response:
    """관리자 사용 가이드: how the admin pages are used."""
    request.state.admin = admin_from_cookie(request, db)
    return render(request, "guide.html")
