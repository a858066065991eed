"""Authentication of the API: agents (the viewer) and hosts (the customer side) by bearer token.

An agent token is issued at login and stored as a digest on the agent's row: a new login replaces it, a
logout or a password change clears it. A host token is issued with a session and stored on the session's
row; it is valid while the session runs and for a while after it ended (for the satisfaction survey).
The two kinds never open each other's routes, and neither opens an admin page (those need the admin
cookie).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from opensupport.server.db.models import Agent, SupportRecord, utcnow
from opensupport.server.security import token_digest
from opensupport.server.web.deps import DbSession
from sqlalchemy import select

#: how long after its end a session still accepts the host's satisfaction answer
HOST_TOKEN_GRACE = dt.timedelta(hours=1)

agent_bearer = HTTPBearer(
    scheme_name="AgentToken", description="token from POST /api/agent/login", auto_error=False
)
host_bearer = HTTPBearer(
    scheme_name="HostToken",
    description="host_token from POST /api/sessions (passed to the host)",
    auto_error=False,
)


def _unauthorised(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


def current_agent(
    db: DbSession, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(agent_bearer)]
) -> Agent:
    """The agent whose current token came with the request; 401 otherwise (also after a newer login)."""
    if credentials is None or not credentials.credentials or len(credentials.credentials) > 200:
        raise _unauthorised("an agent token is required")
    agent = db.scalar(select(Agent).where(Agent.token_hash == token_digest(credentials.credentials)))
    if agent is None:
        raise _unauthorised("the agent token is not valid (logged out, or replaced by a newer login)")
    return agent


CurrentAgent = Annotated[Agent, Depends(current_agent)]


def current_host_session(
    db: DbSession, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(host_bearer)]
) -> SupportRecord:
    """The session whose host token came with the request; 401 when unknown or long finished."""
    if credentials is None or not credentials.credentials or len(credentials.credentials) > 200:
        raise _unauthorised("a host token is required")
    record = db.scalar(
        select(SupportRecord).where(SupportRecord.host_token_hash == token_digest(credentials.credentials))
    )
    if record is None:
        raise _unauthorised("the host token is not valid")
    if record.ended_at is not None and utcnow() - record.ended_at > HOST_TOKEN_GRACE:
        raise _unauthorised("the session has ended")
    return record


HostSessionDep = Annotated[SupportRecord, Depends(current_host_session)]


def peer_address(request: Request) -> str | None:
    """The public address of the caller as the server sees it (the proxy's client behind a trusted proxy)."""
    return request.client.host if request.client else None
