"""Theory of operation: every state a session can be in, and every transition, as one table.

A session starts in a handshake state (the viewer speaks first: CLIENT_HELLO; the host answers with
SERVER_HELLO, which carries its key confirmation; the viewer checks it and sends CONFIRM). When the
confirmation checks out the session is ESTABLISHED and sealed records flow both ways. Sending
CloseSession moves to CLOSING; receiving the peer's CloseSession (which a session answers by itself) moves
to CLOSED. A transport that ends without that authenticated close moves an established session to
SUSPENDED; ``resume()`` on a new transport runs the resume handshake (RESUME_HELLO / RESUME_ACCEPT /
RESUME_CONFIRM) and returns to ESTABLISHED, after which unacknowledged reliable messages are sent again.
Any error from the peer moves to FAILED, which is final.

Input that has no row in :data:`TRANSITIONS` for the current (role, state) is a protocol error: a
remote error when the peer sent it, a LocalProtocolError when the application asked for it.
"""

from __future__ import annotations

import enum


class Role(enum.Enum):
    """Which end of the session this is."""

    HOST = "host"  #: the customer's machine: shares its screen, answers the handshake
    VIEWER = "viewer"  #: the agent's machine: made the code, speaks first


class State(enum.Enum):
    """Session states (see the module docstring and PROTOCOL.md)."""

    HELLO_SENT = "hello sent"  #: viewer: CLIENT_HELLO sent, waiting for SERVER_HELLO
    AWAIT_HELLO = "await hello"  #: host: waiting for CLIENT_HELLO
    AWAIT_CONFIRM = "await confirm"  #: host: SERVER_HELLO sent, waiting for the viewer's CONFIRM
    ESTABLISHED = "established"  #: keys confirmed: application messages flow both ways
    CLOSING = "closing"  #: we sent CloseSession and send nothing more; waiting for the peer's
    CLOSED = "closed"  #: the peer's CloseSession arrived (ours is sent or queued): the session is over
    SUSPENDED = "suspended"  #: the transport ended without a close: waiting for ``resume()``
    RESUME_HELLO_SENT = "resume hello sent"  #: viewer: RESUME_HELLO sent, waiting for RESUME_ACCEPT
    AWAIT_RESUME_HELLO = "await resume hello"  #: host: waiting for RESUME_HELLO
    AWAIT_RESUME_CONFIRM = "await resume confirm"  #: host: RESUME_ACCEPT sent, waiting for RESUME_CONFIRM
    FAILED = "failed"  #: an error ended the session; every call raises it again


class Trigger(enum.Enum):
    """What moves a session: a record from the peer, a call from the application, or the transport."""

    RECV_CLIENT_HELLO = "recv CLIENT_HELLO"  #: the viewer's hello arrived
    RECV_SERVER_HELLO = "recv SERVER_HELLO"  #: the host's hello (with its confirmation) arrived
    RECV_CONFIRM = "recv CONFIRM"  #: the viewer's confirmation arrived
    RECV_RESUME_HELLO = "recv RESUME_HELLO"  #: the viewer's resume hello arrived
    RECV_RESUME_ACCEPT = "recv RESUME_ACCEPT"  #: the host's resume answer arrived
    RECV_RESUME_CONFIRM = "recv RESUME_CONFIRM"  #: the viewer's resume proof arrived
    RECV_SEALED = "recv SEALED"  #: a sealed record arrived
    RECV_ALERT = "recv ALERT"  #: the peer aborted the handshake
    RECV_CLOSE = "recv CloseSession"  #: the peer's authenticated close arrived
    SEND_CLOSE = "send CloseSession"  #: the application ends the session
    TRANSPORT_LOST = "transport lost"  #: ``receive_data(b"")``: the transport ended
    RESUME = "resume()"  #: the application reconnected and asks to resume
    SEND_DATA = "send(event)"  #: the application sends an application message


_H, _V = Role.HOST, Role.VIEWER
_S, _T = State, Trigger

_BOTH: dict[tuple[State, Trigger], State] = {
    (_S.ESTABLISHED, _T.RECV_SEALED): _S.ESTABLISHED,
    (_S.ESTABLISHED, _T.SEND_DATA): _S.ESTABLISHED,
    (_S.ESTABLISHED, _T.SEND_CLOSE): _S.CLOSING,
    (_S.ESTABLISHED, _T.RECV_CLOSE): _S.CLOSED,
    (_S.ESTABLISHED, _T.TRANSPORT_LOST): _S.SUSPENDED,
    (_S.ESTABLISHED, _T.RECV_ALERT): _S.FAILED,
    (_S.CLOSING, _T.RECV_SEALED): _S.CLOSING,
    (_S.CLOSING, _T.RECV_CLOSE): _S.CLOSED,
    (_S.CLOSING, _T.TRANSPORT_LOST): _S.CLOSED,
    (_S.CLOSED, _T.TRANSPORT_LOST): _S.CLOSED,
    # Reliable messages sent while suspended wait for the resume.
    (_S.SUSPENDED, _T.SEND_DATA): _S.SUSPENDED,
    (_S.SUSPENDED, _T.TRANSPORT_LOST): _S.SUSPENDED,
    (_S.FAILED, _T.TRANSPORT_LOST): _S.FAILED,
}

#: (role, state, trigger) -> next state. The only place where a session's state changes.
TRANSITIONS: dict[tuple[Role, State, Trigger], State] = {
    **{(role, s, t): n for (s, t), n in _BOTH.items() for role in (_H, _V)},
    # the full handshake
    (_V, _S.HELLO_SENT, _T.RECV_SERVER_HELLO): _S.ESTABLISHED,
    (_V, _S.HELLO_SENT, _T.RECV_ALERT): _S.FAILED,
    (_V, _S.HELLO_SENT, _T.TRANSPORT_LOST): _S.FAILED,
    (_H, _S.AWAIT_HELLO, _T.RECV_CLIENT_HELLO): _S.AWAIT_CONFIRM,
    (_H, _S.AWAIT_HELLO, _T.RECV_ALERT): _S.FAILED,
    (_H, _S.AWAIT_HELLO, _T.TRANSPORT_LOST): _S.FAILED,
    (_H, _S.AWAIT_CONFIRM, _T.RECV_CONFIRM): _S.ESTABLISHED,
    (_H, _S.AWAIT_CONFIRM, _T.RECV_ALERT): _S.FAILED,
    (_H, _S.AWAIT_CONFIRM, _T.TRANSPORT_LOST): _S.FAILED,
    # resume
    (_V, _S.SUSPENDED, _T.RESUME): _S.RESUME_HELLO_SENT,
    (_H, _S.SUSPENDED, _T.RESUME): _S.AWAIT_RESUME_HELLO,
    (_V, _S.RESUME_HELLO_SENT, _T.RECV_RESUME_ACCEPT): _S.ESTABLISHED,
    (_V, _S.RESUME_HELLO_SENT, _T.RECV_ALERT): _S.FAILED,
    (_V, _S.RESUME_HELLO_SENT, _T.TRANSPORT_LOST): _S.SUSPENDED,
    (_V, _S.RESUME_HELLO_SENT, _T.SEND_DATA): _S.RESUME_HELLO_SENT,
    (_H, _S.AWAIT_RESUME_HELLO, _T.SEND_DATA): _S.AWAIT_RESUME_HELLO,
    (_H, _S.AWAIT_RESUME_CONFIRM, _T.SEND_DATA): _S.AWAIT_RESUME_CONFIRM,
    (_H, _S.AWAIT_RESUME_HELLO, _T.RECV_RESUME_HELLO): _S.AWAIT_RESUME_CONFIRM,
    (_H, _S.AWAIT_RESUME_HELLO, _T.RECV_ALERT): _S.FAILED,
    (_H, _S.AWAIT_RESUME_HELLO, _T.TRANSPORT_LOST): _S.SUSPENDED,
    (_H, _S.AWAIT_RESUME_CONFIRM, _T.RECV_RESUME_CONFIRM): _S.ESTABLISHED,
    (_H, _S.AWAIT_RESUME_CONFIRM, _T.RECV_ALERT): _S.FAILED,
    (_H, _S.AWAIT_RESUME_CONFIRM, _T.TRANSPORT_LOST): _S.SUSPENDED,
}

#: States in which the application may not send anything and no sealed record can be made.
HANDSHAKE_STATES = frozenset({_S.HELLO_SENT, _S.AWAIT_HELLO, _S.AWAIT_CONFIRM})
#: States between a lost transport and a completed resume.
RESUMING_STATES = frozenset(
    {_S.SUSPENDED, _S.RESUME_HELLO_SENT, _S.AWAIT_RESUME_HELLO, _S.AWAIT_RESUME_CONFIRM}
)
#: States in which sealed records may be sent.
SEALING_STATES = frozenset({_S.ESTABLISHED, _S.CLOSING, _S.CLOSED})


def next_state(role: Role, state: State, trigger: Trigger) -> State | None:
    """The state after ``trigger``, or None if the table has no row for it (a protocol error)."""
    return TRANSITIONS.get((role, state, trigger))


def transition_table_markdown() -> str:
    """The transition table as the Markdown rows PROTOCOL.md shows (a test keeps the two in step)."""
    grouped: dict[tuple[State, Trigger, State], list[Role]] = {}
    for (role, state, trigger), new in TRANSITIONS.items():
        grouped.setdefault((state, trigger, new), []).append(role)
    states, triggers = list(State), list(Trigger)
    rows = ["| state | trigger | role | next state |", "|---|---|---|---|"]
    for (state, trigger, new), roles in sorted(
        grouped.items(), key=lambda kv: (states.index(kv[0][0]), triggers.index(kv[0][1]), kv[1][0].value)
    ):
        who = "both" if len(roles) == 2 else roles[0].value
        rows.append(f"| {state.name} | {trigger.name} | {who} | {new.name} |")
    return "\n".join(rows)
