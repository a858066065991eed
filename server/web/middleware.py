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


#: the largest form body accepted (the admin forms are small; this is far above any of them)
MAX_FORM_BODY = 1024 * 1024
_FORM_TYPES = (b"application/x-www-form-urlencoded", b"multipart/form-data")


def _has_nul(scope: Scope) -> bool:
    raw_path = scope.get("raw_path") or b""
    query = scope.get("query_string") or b""
    return (
        "\x00" in scope.get("path", "") or b"%00" in raw_path.lower() or b"%00" in query or b"\x00" in query
    )


async def _reject(send: Send, status: int, message: str) -> None:
    body = message.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


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
        try:
            await self._serve(scope, receive, send, request, language)
        finally:
            i18n.deactivate(token)

    async def _serve(
        self, scope: Scope, receive: Receive, send: Send, request: Request, language: str
    ) -> None:
        # NUL can never be meant in a path, query or form field, and PostgreSQL rejects it in text:
        # refuse it here once, with a clear 400, rather than in every handler
        if _has_nul(scope):
            await _reject(send, 400, i18n.gettext("The request contains a NUL character."))
            return
        content_type = request.headers.get("content-type", "").encode("latin-1")
        if content_type.startswith(_FORM_TYPES):
            body = bytearray()
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    break
                body += message.get("body", b"")
                if len(body) > MAX_FORM_BODY:
                    await _reject(send, 413, i18n.gettext("The form is too large."))
                    return
                if not message.get("more_body", False):
                    break
            if b"%00" in body or (content_type.startswith(b"multipart") and b"\x00" in body):
                await _reject(send, 400, i18n.gettext("The request contains a NUL character."))
                return
            receive = _replay(bytes(body), receive)
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

        await self.app(scope, receive, send_with_headers)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands out the already-read body once, then defers to the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
