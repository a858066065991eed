"""즐겨찾기 favourites: the agent's list of URLs, programs and folders (its profile), and the host's copy.

The viewer reads and replaces the list (``GET``/``PUT /api/agent/favourites``); every replacement is
written to the audit log, since a program entry starts a program on customers' PCs. The host gets the
list of the session's agent (``GET /api/host/favourites``), empty when the agent's ``favourites`` option is
off, and opens an entry only from that copy, by its id: the viewer never sends a command line.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter
from opensupport.server.api.deps import CurrentAgent, HostSessionDep
from opensupport.server.api.schemas import Message, Strict
from opensupport.server.db.models import Agent, AgentFavourite, AuditLog
from opensupport.server.web.deps import DbSession
from pydantic import AfterValidator, BaseModel, Field, StringConstraints, model_validator
from sqlalchemy import delete, select

router = APIRouter(tags=["favourites"])

#: Most favourites per agent.
MAX_FAVOURITES = 200
#: Most arguments of a program entry.
MAX_ARGS = 32


def _clean(value: str) -> str:
    if any(ord(c) < 32 or ord(c) == 0x7F or 0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise ValueError("must not contain control characters")
    return value


Label = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_clean)]
Target = Annotated[str, StringConstraints(min_length=1, max_length=4096), AfterValidator(_clean)]
Argument = Annotated[str, StringConstraints(max_length=1024), AfterValidator(_clean)]


class FavouriteIn(Strict):
    """One entry: a URL (http or https), a program (its path or name on the customer's PC, and its
    arguments, run without a shell) or a folder."""

    kind: Literal["url", "program", "folder"]
    label: Label
    target: Target
    args: list[Argument] = Field(default_factory=list, max_length=MAX_ARGS)

    @model_validator(mode="after")
    def _check(self) -> FavouriteIn:
        if self.kind == "url":
            parts = urlsplit(self.target)
            if parts.scheme.lower() not in ("http", "https") or not parts.hostname or parts.username:
                raise ValueError("a URL favourite must be an http(s) URL with a host and no user name")
        if self.args and self.kind != "program":
            raise ValueError("only a program favourite has arguments")
        return self


class FavouriteOut(BaseModel):
    """An entry with the id the host opens it by."""

    id: int
    kind: str
    label: str
    target: str
    args: list[str]


def _listing(db: DbSession, agent_id: int) -> list[FavouriteOut]:
    rows = db.scalars(
        select(AgentFavourite).where(AgentFavourite.agent_id == agent_id).order_by(AgentFavourite.position)
    )
    return [
        FavouriteOut(id=r.id, kind=r.kind, label=r.label, target=r.target, args=list(r.args or []))
        for r in rows
    ]


@router.get("/api/agent/favourites", response_model=list[FavouriteOut])
def agent_favourites(db: DbSession, agent: CurrentAgent) -> list[FavouriteOut]:
    """The agent's favourites, in their order."""
    return _listing(db, agent.id)


@router.put(
    "/api/agent/favourites", response_model=list[FavouriteOut], responses={422: {"description": "invalid"}}
)
def replace_favourites(
    db: DbSession,
    agent: CurrentAgent,
    body: Annotated[list[FavouriteIn], Field(max_length=MAX_FAVOURITES)],
) -> list[FavouriteOut]:
    """Replace the agent's favourites with ``body`` (in that order; entries get new ids)."""
    db.execute(delete(AgentFavourite).where(AgentFavourite.agent_id == agent.id))
    for position, entry in enumerate(body):
        db.add(
            AgentFavourite(
                agent_id=agent.id,
                position=position,
                kind=entry.kind,
                label=entry.label,
                target=entry.target,
                args=list(entry.args),
            )
        )
    detail: list[dict[str, Any]] = [e.model_dump() for e in body if e.kind == "program"]
    db.add(
        AuditLog(
            company_id=agent.company_id,
            actor=agent.login_id,
            action="agent.favourites",
            target=agent.login_id,
            detail=f"{len(body)} favourites; programs: {json.dumps(detail, ensure_ascii=False)}"[:4000],
        )
    )
    db.commit()
    return _listing(db, agent.id)


@router.get("/api/host/favourites", response_model=list[FavouriteOut], responses={401: {"model": Message}})
def host_favourites(db: DbSession, record: HostSessionDep) -> list[FavouriteOut]:
    """The favourites of the session's agent, or none when the agent's favourites option is off."""
    agent = db.get(Agent, record.agent_id) if record.agent_id is not None else None
    if agent is None or not agent.effective_options().get("favourites", False):
        return []
    return _listing(db, agent.id)
