"""The request middleware: language, CSRF cookie and security headers for every response.

It is plain ASGI (not ``BaseHTTPMiddleware``) so that the language context variable it sets is seen by the
endpoint, which runs in the same context (sync endpoints get a copy of it in the thread pool).
"""

from __future__ import annotations

import secrets
from http.cookies import SimpleCookie

from opensupport.server import i18n
from opensupport.server.web.deps import CSRF_COOKIE
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'",
}


def cookie_header(name: str, value: str, *, secure: bool, max_age: int | None = None, path: str = "/") -> str:
    """A Set-Cookie value: HttpOnly, SameSite=Strict, Secure when ``secure``."""
    cookie: SimpleCookie = SimpleCookie()
    cookie[name] = value
    morsel = cookie[name]
    morsel["path"] = path
    morsel["httponly"] = True
    morsel["samesite"] = "Strict"
    if secure:
        morsel["secure"] = True
    if max_age is not None:
        morsel["max-age"] = max_age
    return morsel.OutputString()


def is_secure(request: Request) -> bool:
    """Whether cookies set in answer to ``request`` get the Secure flag."""
    return request.url.scheme == "https" or bool(request.app.state.settings.cookie_secure)


class RequestContextMiddleware:
    """Chooses the language (``?lang=``, the switch's cookie, ``Accept-Language``, else Korean), makes sure
    the browser has a CSRF cookie, and adds security headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        language = request.query_params.get("lang") or request.cookies.get(i18n.LANGUAGE_COOKIE) or ""
        if language not in i18n.LANGUAGES:
            language = i18n.negotiate(request.headers.get("accept-language"))
        token = i18n.activate(language)
        state = scope.setdefault("state", {})
        cookie = request.cookies.get(CSRF_COOKIE, "")
        new_cookie = None
        if len(cookie) < 32 or len(cookie) > 64:
            cookie = new_cookie = secrets.token_urlsafe(32)
        state["csrf_cookie"] = cookie
        state["language"] = language

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if new_cookie is not None:
                    headers.append(
                        "set-cookie", cookie_header(CSRF_COOKIE, new_cookie, secure=is_secure(request))
                    )
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            i18n.deactivate(token)
