"""상담원 화면 전송 / 상담원 화면 제어 on the agent's side: the agent's own screen, streamed to the customer.

The agent chooses Session > "Show my screen" (or "... and let the customer control it"). The viewer makes a
fresh code of the reverse shape (:func:`~opensupport.tools.agent_screen.new_reverse_code`) and offers it to
the customer's host inside the support session. Only once the host accepts (its policy allows the option,
and it has a window to show the screen on) does :class:`AgentScreenShare` start a host-role
:class:`~opensupport.host.session.HostSession` on the agent's display with that code: the same capture,
codec, flow control and input replay the customer's applet uses, the roles swapped. It is view-only (the
customer's input is dropped on the agent's PC) unless the agent chose control *and* the host allowed it.
A refused offer captures nothing.

The stream ends when the agent stops it (:meth:`AgentScreenShare.stop`), when the customer closes it (the
host's ``agent_screen.stop`` or the reverse session's end) and when the support session ends
(:meth:`AgentScreenShare.close`).

Threads: :meth:`handle` runs on the support session's link thread; :meth:`offer` and :meth:`stop` may be
called from any thread (the GUI's); starting and stopping the reverse host happen on threads of their
own, since both wait for the desktop and the relay.
"""

from __future__ import annotations

import enum
import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opensupport.link import LinkThread, SessionLink
from opensupport.protocol import ControlMessage, Event
from opensupport.tools.agent_screen import (
    TOPIC_AGENT_SCREEN_ACCEPTED,
    TOPIC_AGENT_SCREEN_OFFER,
    TOPIC_AGENT_SCREEN_STOP,
    AgentScreenOffer,
    new_reverse_code,
    offer_message,
    parse_accepted,
    parse_stop,
    stop_message,
)
from opensupport.tools.messages import TOPIC_REFUSED, ToolRequestError, parse

if TYPE_CHECKING:
    from opensupport.host.session import HostSession, HostStatus

__all__ = ["END_REASON_AGENT_STOPPED", "AgentScreenShare", "AgentScreenState", "AgentScreenStatus"]

log = logging.getLogger(__name__)

#: The reason sent when the agent stops showing its screen.
END_REASON_AGENT_STOPPED = "the agent stopped showing the screen"


class AgentScreenState(enum.Enum):
    IDLE = "idle"  #: nothing shown (the message says how the last stream ended, if any)
    OFFERED = "offered"  #: the offer is on its way; nothing is captured yet
    SHOWING = "showing"  #: the customer's applet accepted; the agent's screen is streamed


@dataclass(frozen=True)
class AgentScreenStatus:
    """What the agent's menu and status line show."""

    state: AgentScreenState
    #: the customer may control the agent's PC (only while showing, and only when both sides agreed)
    control: bool = False
    message: str = ""


class AgentScreenShare:
    """The agent's screen for one support session (see the module docstring).

    ``server`` is the support session's server (the reverse stream uses the same relay); ``display`` the
    agent's X display (None: ``$DISPLAY``). ``on_status`` hears every :class:`AgentScreenStatus` change (from
    any thread). ``open_host`` builds the reverse host (tests and other platforms).
    """

    def __init__(
        self,
        link: SessionLink,
        link_thread: LinkThread,
        server: str,
        *,
        display: str | None = None,
        on_status: Callable[[AgentScreenStatus], None] | None = None,
        open_host: Callable[..., HostSession] | None = None,
    ) -> None:
        self._link = link
        self._link_thread = link_thread
        self._server = server
        self.display = display
        self.on_status = on_status
        self._open_host = open_host
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._offer: AgentScreenOffer | None = None
        #: the reverse host of the current offer, once the customer's applet accepted it
        self.host: HostSession | None = None
        self.status = AgentScreenStatus(AgentScreenState.IDLE)
        #: the latest reverse stream's capture (``AgentMonitorCapture``), once it opened
        self.capture: Any = None
        self._closed = False

    # -- the agent (any thread) -----------------------------------------------------------------------------
    def offer(self, control: bool) -> AgentScreenOffer:
        """Offer the agent's screen to the customer (view only, or with the customer's control). A stream
        already running is stopped first. Nothing is captured before the customer's applet accepts."""
        self.stop("the agent offered the screen again")
        offer = AgentScreenOffer(next(self._ids), new_reverse_code(), control)
        with self._lock:
            if self._closed:
                raise RuntimeError("the support session has ended")
            self._offer = offer
        self._set_status(
            AgentScreenStatus(AgentScreenState.OFFERED, control, "Offering your screen to the customer")
        )
        self._link_thread.call(self._send, offer_message(offer))
        return offer

    def stop(self, reason: str = END_REASON_AGENT_STOPPED) -> None:
        """Stop showing the agent's screen (nothing happens when nothing is shown)."""
        offer = self._end(reason or END_REASON_AGENT_STOPPED)
        if offer is not None:
            self._link_thread.call(self._send, stop_message(offer.id, reason))

    def close(self) -> None:
        """The support session ended: the reverse stream ends with it."""
        with self._lock:
            self._closed = True
        self._end("the support session ended")

    # -- the support session's link thread ------------------------------------------------------------------
    def handle(self, event: Event) -> bool:
        """Take the host's answers about the agent's screen; False for anything else."""
        if not isinstance(event, ControlMessage):
            return False
        topic = event.topic
        if topic == TOPIC_AGENT_SCREEN_ACCEPTED:
            try:
                request_id, control = parse_accepted(event.data)
            except ToolRequestError as exc:
                log.warning("malformed agent_screen.accepted dropped: %s", exc)
                return True
            self._accepted(request_id, control)
        elif topic == TOPIC_AGENT_SCREEN_STOP:
            try:
                request_id, reason = parse_stop(event.data)
            except ToolRequestError as exc:
                log.warning("malformed agent_screen.stop dropped: %s", exc)
                return True
            current = self._offer
            if current is not None and current.id == request_id:
                self._end(
                    f"The customer closed your screen: {reason}"
                    if reason
                    else "The customer closed your screen"
                )
        elif topic == TOPIC_REFUSED:
            return self._refused(event.data)
        else:
            return False
        return True

    def _refused(self, data: bytes) -> bool:
        try:
            payload = parse(data)
        except ToolRequestError:
            return False
        if payload.get("request") != TOPIC_AGENT_SCREEN_OFFER:
            return False  # another tool's refusal
        current = self._offer
        if current is not None and payload.get("id") == current.id:
            reason = payload.get("reason")
            self._end(f"The customer's applet refused to show your screen: {reason}")
        return True

    def _accepted(self, request_id: int, control: bool) -> None:
        with self._lock:
            offer = self._offer
            if offer is None or offer.id != request_id or self.host is not None or self._closed:
                return
            allowed = offer.control and control  # never more than the agent offered
            host = self._make_host(offer, view_only=not allowed)
            self.host = host
        text = "The customer sees your screen" + (" and may control it" if allowed else " (view only)")
        self._set_status(AgentScreenStatus(AgentScreenState.SHOWING, allowed, text))
        threading.Thread(
            target=self._start_host, args=(offer, host), name="opensupport-agent-screen", daemon=True
        ).start()

    def _make_host(self, offer: AgentScreenOffer, *, view_only: bool) -> HostSession:
        if self._open_host is not None:
            factory = self._open_host
        else:
            from opensupport.host.session import HostSession

            factory = HostSession

        def on_status(status: HostStatus) -> None:
            if status.ended is not None:
                self._host_ended(offer, status.ended)

        def open_pinned(display: str | None, monitor: int) -> Any:
            from .agent_capture import open_agent_capture

            capture = open_agent_capture(display, monitor)
            self.capture = capture
            return capture

        # No policy: the reverse stream carries no tools, only the screen and (if allowed) input. The
        # capture is pinned to the agent's monitor: the customer cannot switch to another one.
        return factory(
            self._server,
            offer.code,
            display=self.display,
            view_only=view_only,
            on_status=on_status,
            open_capture_backend=open_pinned,
        )

    def _start_host(self, offer: AgentScreenOffer, host: HostSession) -> None:
        try:
            host.start()
        except Exception as exc:  # the agent's desktop refused (no display, no X extension...)
            log.warning("the agent's screen cannot be shared: %s", exc)
            self.stop(f"the agent's screen cannot be shared: {exc}")
            self._set_status(
                AgentScreenStatus(AgentScreenState.IDLE, message=f"Your screen cannot be shared: {exc}")
            )

    def _host_ended(self, offer: AgentScreenOffer, how: str) -> None:
        # on one of the reverse host's threads: the customer closed it, or the stream failed
        if self._offer is not None and self._offer.id == offer.id:
            reason = "The stream of your screen ended: " + how
            ended = self._end(reason)
            if ended is not None:
                self._link_thread.call(self._send, stop_message(ended.id, how))

    # -- common -----------------------------------------------------------------------------------------------
    def _end(self, message: str) -> AgentScreenOffer | None:
        """Forget the current offer and stop its host (in the background); the offer, or None."""
        with self._lock:
            offer, host = self._offer, self.host
            self._offer = None
            self.host = None
        if offer is None:
            return None
        if host is not None:
            threading.Thread(
                target=_stop_host, args=(host, message), name="opensupport-agent-screen-stop", daemon=True
            ).start()
        self._set_status(AgentScreenStatus(AgentScreenState.IDLE, message=message))
        return offer

    def _send(self, message: ControlMessage) -> None:
        if self._link.established:
            self._link.send(message)

    def _set_status(self, status: AgentScreenStatus) -> None:
        self.status = status
        callback = self.on_status
        if callback is not None:
            try:
                callback(status)
            except Exception:
                log.exception("the agent screen status callback failed")


def _stop_host(host: Any, reason: str) -> None:
    try:
        host.stop(reason[:200])
    finally:
        host.close()
