"""The customer's page ``/s/<agent-id>`` (고객 접속 URL) and the host applet download.

Korean by default, English on request (``?lang=en``, the switch, or the browser's Accept-Language). It
tells someone who is not technical how to start the host applet and enter the code the agent reads out.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from opensupport.server.db.models import Agent, Company
from opensupport.server.i18n import gettext as _
from opensupport.server.web.deps import DbSession, settings_of
from opensupport.server.web.templating import render
from sqlalchemy import select

router = APIRouter(include_in_schema=False)

#: where the server looks for a built host package to offer (``<data>/downloads/opensupport-*.whl``)
DOWNLOADS_DIR = "downloads"


def host_package(data_dir: Path) -> Path | None:
    """The newest built host package in the data folder, if one was put there."""
    folder = data_dir / DOWNLOADS_DIR
    if not folder.is_dir():
        return None
    wheels = sorted(folder.glob("opensupport-*.whl"), key=lambda p: p.stat().st_mtime)
    return wheels[-1] if wheels else None


@router.get("/s/{login_id}", response_class=HTMLResponse)
def customer_page(request: Request, db: DbSession, login_id: str) -> Response:
    """고객 접속 URL of an agent: how to start the host applet and enter the code."""
    agent = db.scalar(select(Agent).where(Agent.login_id == login_id[:12])) if len(login_id) <= 12 else None
    if agent is None:
        raise HTTPException(404, _("This support address does not exist. Check the address with your agent."))
    company = db.get(Company, agent.company_id)
    return render(
        request,
        "customer.html",
        {
            "agent": agent,
            "service": (company.service_name or company.name) if company else "OpenSupport",
            "server_url": f"{request.url.scheme}://{request.url.netloc}",
        },
    )


@router.get("/download/host")
def download_host(request: Request) -> Response:
    """The host applet: the built package if the operator put one in ``<data>/downloads``, otherwise a page
    explaining how to install it with pip."""
    package = host_package(settings_of(request).data_dir)
    if package is not None:
        return FileResponse(package, filename=package.name, media_type="application/octet-stream")
    return render(request, "download.html", {"server_url": f"{request.url.scheme}://{request.url.netloc}"})
