"""Dependencies shared by every admin page and every API route: the database session, the logged-in
administrator (scoped to its company), CSRF checking and the admin session cookie.

Use them as annotations::

    @router.get("/manage/things/")
    def things(request: Request, db: DbSession, admin: CurrentAdmin) -> HTMLResponse: ...

    @router.post("/manage/things/", dependencies=[CsrfChecked])
    def add_thing(...): ...
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from opensupport.server.config import Settings
from opensupport.server.db import Database
from opensupport.server.db.models import AdminUser
from sqlalchemy import select
from sqlalchemy.orm import Session

#: a row ID in a URL: bounded so that no database is asked about an integer it cannot hold
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]

SESSION_COOKIE = "os_session"
CSRF_COOKIE = "os_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class NotLoggedIn(Exception):
    """The request needs an administrator and has no valid session (the page redirects to the login)."""


class CsrfError(Exception):
    """A state-changing request came without the CSRF token of the browser that loaded the form."""


def settings_of(request: Request) -> Settings:
    """The server's settings."""
    settings: Settings = request.app.state.settings
    return settings


def get_db(request: Request) -> Iterator[Session]:
    """One database session per request; committed at the end unless the handler raised."""
    database: Database = request.app.state.db
    with database.session() as session:
        yield session


DbSession = Annotated[Session, Depends(get_db)]


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt="opensupport.admin-session")


def session_cookie_value(settings: Settings, admin: AdminUser) -> str:
    """The signed value of the login cookie of ``admin`` (valid until its nonce is rotated)."""
    return _serializer(settings).dumps({"a": admin.id, "n": admin.session_nonce})


def rotate_session_nonce(admin: AdminUser) -> None:
    """Invalidate every login cookie of ``admin`` (logout, password change)."""
    admin.session_nonce = secrets.token_hex(16)


def admin_from_cookie(request: Request, db: Session) -> AdminUser | None:
    """The administrator whose valid login cookie came with the request, if any."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    settings = settings_of(request)
    try:
        data = _serializer(settings).loads(raw, max_age=settings.admin_session_s)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("a"), int) or not isinstance(data.get("n"), str):
        return None
    admin = db.scalar(select(AdminUser).where(AdminUser.id == data["a"]))
    if admin is None or not admin.session_nonce or not hmac.compare_digest(admin.session_nonce, data["n"]):
        return None
    return admin


def current_admin(request: Request, db: DbSession) -> AdminUser:
    """The logged-in administrator; raises :class:`NotLoggedIn` (the page then redirects to the login).

    Every query a page makes for tenant data filters on ``admin.company_id``.
    """
    admin = admin_from_cookie(request, db)
    if admin is None:
        raise NotLoggedIn
    request.state.admin = admin
    return admin


CurrentAdmin = Annotated[AdminUser, Depends(current_admin)]


def csrf_token(request: Request) -> str:
    """The CSRF token for forms of this browser: an HMAC of its random CSRF cookie under the server key."""
    cookie: str = request.state.csrf_cookie
    key = settings_of(request).secret_key.encode()
    return hmac.new(key, b"csrf:" + cookie.encode(), hashlib.sha256).hexdigest()


async def verify_csrf(request: Request) -> None:
    """Refuse (raise :class:`CsrfError`) a request whose form field ``csrf_token`` or header
    ``X-CSRF-Token`` does not match this browser's CSRF cookie."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not sent or not request.cookies.get(CSRF_COOKIE):
        raise CsrfError
    if not hmac.compare_digest(sent, csrf_token(request)):
        raise CsrfError


CsrfChecked = Depends(verify_csrf)
