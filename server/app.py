"""The ASGI application: admin web, JSON API, customer page and relay on one port.

``create_app(settings)`` opens the database, brings its schema up to date (Alembic), creates the first
company and its administrator on a fresh database, and mounts:

- every ``router`` of the modules in ``opensupport.server.web`` (admin pages under ``/manage/``, the
  customer page ``/s/<agent-id>``) and ``opensupport.server.api`` (JSON under ``/api/``);
- the relay's WebSocket route ``/relay`` from ``opensupport.server.relay`` when that package is present.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import pkgutil
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from opensupport.server import api as api_package
from opensupport.server import web as web_package
from opensupport.server.bootstrap import ensure_first_company
from opensupport.server.config import Settings
from opensupport.server.db import Database
from opensupport.server.i18n import gettext as _
from opensupport.server.security import LoginThrottle
from opensupport.server.sessions import close_stale_sessions
from opensupport.server.web.deps import CSRF_HEADER, CsrfError, NotLoggedIn
from opensupport.server.web.middleware import RequestContextMiddleware
from opensupport.server.web.templating import render
from starlette.exceptions import HTTPException as StarletteHTTPException

from opensupport import __version__

log = logging.getLogger("opensupport.server")

STATIC_DIR = Path(__file__).resolve().parent / "web" / "static"


def _routers(package: Any) -> list[Any]:
    """The ``router`` of every module of ``package``, in module-name order."""
    routers = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        router = getattr(module, "router", None)
        if router is not None:
            routers.append(router)
    return routers


def _relay_routes(app: FastAPI, relay_config: Any) -> list[Any]:
    """The relay's routes (and ``app.state.relay``), or none, with a log line, when the relay package is
    not installed."""
    try:
        from opensupport.server.relay import Relay, RelayConfig, relay_routes
    except ImportError as exc:
        if exc.name and exc.name.startswith("opensupport.server.relay"):
            log.warning("the relay (opensupport.server.relay) is not available: /relay is not served")
            app.state.relay = None
            return []
        raise
    relay = Relay(relay_config or RelayConfig())
    app.state.relay = relay
    return list(relay_routes(relay))


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/")


def create_app(settings: Settings, *, announce: bool = True, relay_config: Any = None) -> FastAPI:
    """Build the server application for ``settings``.

    Migrates the database to the newest schema and, on a fresh database, creates the first company and
    the administrator ``admin`` (printing a generated password once when ``OPENSUPPORT_ADMIN_PASSWORD``
    is not set and ``announce`` is true). ``relay_config`` is the relay's ``RelayConfig`` (defaults when
    None). Raises SQLAlchemy errors if the database cannot be reached.
    """
    database = Database(settings.database_url)
    database.upgrade()
    created = ensure_first_company(database, settings.admin_password)
    if created is not None and created.password is not None and announce:
        print(
            "OpenSupport: created the administrator 'admin' with the password\n\n"
            f"    {created.password}\n\n"
            "It is shown only this once; change it in 마이페이지 after logging in at /manage/.",
            file=sys.stderr,
            flush=True,
        )

    def sweep() -> None:
        with database.session() as session:
            closed = close_stale_sessions(session, None, settings.online_window_s, settings.silent_after)
        if closed:
            log.info("closed %d sessions nobody is in any more", closed)

    async def sweep_forever() -> None:
        # sessions left open by a viewer that vanished (or by a server restart) are closed as
        # disconnected, so they show in 장애 상황 관리 and no record stays open forever
        while True:
            try:
                await anyio.to_thread.run_sync(sweep)
            except Exception:
                log.exception("closing stale sessions failed")
            await asyncio.sleep(settings.sweep_interval_s)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        relay = app.state.relay
        if relay is not None:
            await relay.start()
        sweeper = asyncio.create_task(sweep_forever(), name="opensupport-session-sweeper")
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            if relay is not None:
                await relay.close()
            database.dispose()

    app = FastAPI(
        title="OpenSupport server",
        version=__version__,
        description="Admin web, agent/host JSON API and relay of OpenSupport.",
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = database
    app.state.login_throttle = LoginThrottle()
    app.add_middleware(RequestContextMiddleware)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    for router in _routers(web_package) + _routers(api_package):
        app.include_router(router)
    for route in _relay_routes(app, relay_config):
        app.router.routes.append(route)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/manage/", status_code=303)

    @app.exception_handler(NotLoggedIn)
    async def not_logged_in(request: Request, exc: NotLoggedIn) -> Response:
        if not _wants_html(request) or request.headers.get("accept", "").startswith("application/json"):
            return JSONResponse({"detail": "not logged in"}, status_code=401)
        return RedirectResponse("/manage/", status_code=303)

    @app.exception_handler(CsrfError)
    async def csrf_error(request: Request, exc: CsrfError) -> Response:
        message = _("The form has expired or did not come from this site. Reload the page and try again.")
        if not _wants_html(request) or request.headers.get(CSRF_HEADER):
            return JSONResponse({"detail": message}, status_code=403)
        return render(request, "error.html", {"message": message, "admin": None}, status_code=403)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if not _wants_html(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        message = exc.detail if exc.status_code != 404 else _("The page was not found.")
        return render(request, "error.html", {"message": message, "admin": None}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in exc.errors()
        ]
        if not _wants_html(request):
            return JSONResponse({"detail": errors}, status_code=422)
        message = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in errors)
        return render(request, "error.html", {"message": message, "admin": None}, status_code=422)

    return app
