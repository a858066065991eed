"""Request and response bodies of the JSON API, with the limits every input is checked against."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints


def _printable(value: str) -> str:
    # NUL and other control characters have no place in these fields (PostgreSQL refuses NUL outright)
    if any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise ValueError("must not contain control characters")
    return value


def _ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError("must be an IPv4 or IPv6 address") from None


ShortText = Annotated[str, StringConstraints(max_length=100), AfterValidator(_printable)]
LongText = Annotated[str, StringConstraints(max_length=4000), AfterValidator(_printable)]
IPAddress = Annotated[str, StringConstraints(max_length=64), AfterValidator(_ip)]
AgentLoginId = Annotated[str, StringConstraints(min_length=1, max_length=12, pattern=r"^[A-Za-z0-9]+$")]
Password = Annotated[str, StringConstraints(min_length=1, max_length=128), AfterValidator(_printable)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AgentLogin(Strict):
    """The viewer's login: the agent's ID and password, and what the viewer knows about its PC."""

    login_id: AgentLoginId
    password: Password
    private_ip: IPAddress | None = Field(None, description="the agent PC's own (private) address")
    pc_name: ShortText | None = None


class AgentInfo(BaseModel):
    login_id: str
    name: str
    company_name: str
    department: str | None
    can_pc: bool
    can_mobile: bool


class AgentLoginResult(BaseModel):
    token: str = Field(description="send as `Authorization: Bearer <token>` on every agent route")
    agent: AgentInfo
    options: dict[str, bool]
    heartbeat_interval_s: int
    customer_url: str


class OpenSession(BaseModel):
    id: int
    routing_id: str
    status: str
    created_at: str
    started_at: str | None


class HeartbeatResult(BaseModel):
    online: bool
    options: dict[str, bool]
    sessions: list[OpenSession] = Field(description="the agent's sessions still waiting or in progress")


class SessionCreate(Strict):
    """A new session; the viewer makes the secret half of the code itself and never sends it."""

    private_ip: IPAddress | None = None
    pc_name: ShortText | None = None


class SessionCreated(BaseModel):
    id: int
    routing_id: str = Field(description="the public half of the code; the relay pairs on it")
    host_token: str = Field(
        description="give it to the host over the encrypted session; it authorises its reports"
    )
    status: str
    customer_url: str


class SessionInfo(BaseModel):
    id: int
    routing_id: str
    status: str
    agent_login_id: str
    customer_name: str | None
    customer_pc_name: str | None
    customer_os: str | None
    customer_ip_public: str | None
    customer_ip_private: str | None
    created_at: str
    started_at: str | None
    ended_at: str | None
    duration_s: int | None
    fault_type_id: int | None
    fault_type_name: str | None
    content: str | None
    resolved: str
    satisfaction: int | None
    customer_comment: str | None


class StatusUpdate(Strict):
    status: Literal["active", "ended", "disconnected", "fault", "refused"]


class HostStatusUpdate(Strict):
    status: Literal["refused", "disconnected"] = Field(
        description="refused: the customer declined the connection; disconnected: the host lost the session"
    )


class EndReport(Strict):
    """The agent's end-of-session report."""

    fault_type_id: int | None = Field(None, ge=1, le=2**31 - 1)
    content: LongText = ""
    resolved: Literal["resolved", "unresolved", "unset"] = "unset"


class HostReport(Strict):
    """What the host knows about the customer's PC (the public address is taken from the connection)."""

    customer_name: ShortText | None = None
    pc_name: ShortText | None = None
    os: ShortText | None = None
    private_ip: IPAddress | None = None
    email: Annotated[str, StringConstraints(max_length=200), AfterValidator(_printable)] | None = None
    phone: Annotated[str, StringConstraints(max_length=40), AfterValidator(_printable)] | None = None


class Satisfaction(Strict):
    satisfaction: int | None = Field(None, ge=1, le=5, description="1..5, or null for no answer")
    comment: Annotated[str, StringConstraints(max_length=2000), AfterValidator(_printable)] = ""


class HostSession(BaseModel):
    routing_id: str
    status: str
    agent_login_id: str
    agent_name: str
    service_name: str
    options: dict[str, bool] = Field(description="the agent's effective options, enforced by the host")


class FaultTypeOut(BaseModel):
    id: int
    name: str
    position: int


class Message(BaseModel):
    detail: str
