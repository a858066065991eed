"""Jinja2 templates of the admin web, with ``_()`` and the CSRF helpers available in every template.

Templates live in ``server/web/templates/``; a page extends ``base.html`` (top navigation, header,
language switch) and fills ``{% block content %}``. ``render()`` is the one way to answer with a page.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from opensupport.server import i18n
from opensupport.server.records.periods import server_zone
from opensupport.server.web.deps import CSRF_FIELD, csrf_token

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


def format_datetime(value: dt.datetime | None, *, seconds: bool = True) -> str:
    """A timestamp in the server's zone (``OPENSUPPORT_TIMEZONE``, else the machine's; the same zone the
    records and statistics use), ``YYYY-MM-DD HH:MM:SS``; empty for ``None``."""
    if value is None:
        return ""
    local = value.astimezone(server_zone())
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def csrf_input(request: Request) -> Markup:
    """The hidden form field carrying the CSRF token; put ``{{ csrf_input(request) }}`` in every form."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        CSRF_FIELD, escape(csrf_token(request))
    )


templates.env.globals.update(
    _=i18n.gettext,
    ngettext=i18n.ngettext,
    current_language=i18n.current_language,
    LANGUAGES=i18n.LANGUAGES,
    csrf_input=csrf_input,
    csrf_token=csrf_token,
)
templates.env.filters["datetime"] = format_datetime
templates.env.autoescape = True


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    """Render template ``name`` with ``context`` (plus ``request`` and the logged-in ``admin``, if any)."""
    ctx: dict[str, Any] = {"admin": getattr(request.state, "admin", None)}
    ctx.update(context or {})
    response: HTMLResponse = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    return response
