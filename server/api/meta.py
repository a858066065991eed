"""``GET /api/health``: whether the server is up and its database answers (for scripts and monitors)."""

from __future__ import annotations

from fastapi import APIRouter
from opensupport.server.web.deps import DbSession
from pydantic import BaseModel
from sqlalchemy import text

from opensupport import __version__

router = APIRouter(prefix="/api", tags=["meta"])


class Health(BaseModel):
    status: str
    version: str


@router.get("/health", response_model=Health)
def health(db: DbSession) -> Health:
    """``ok`` with the server's version once the database answers a query."""
    db.execute(text("SELECT 1"))
    return Health(status="ok", version=__version__)
