"""상담원 화면 전송 / 상담원 화면 제어 on the customer's side: the agent's offers, decided and answered.

The agent's viewer offers its screen inside the support session (``agent_screen.offer``, see
:mod:`opensupport.tools.agent_screen`). :class:`AgentScreenGuest` decides on the link's thread, with the
session's :class:`~opensupport.host.policy.HostPolicy` (the server's options, never the viewer's word):
상담원 화면 전송 (``agent_screen_send``) must be on for any offer, 상담원 화면 제어 (``agent_screen_control``)
too for one that lets the customer control the agent's PC. A refused offer is answered with
``tool.refused`` naming the option, and nothing is joined or shown. An allowed one goes to the
*presenter* (the applet's window, :mod:`opensupport.host.ui.agent_screen`), which joins the reverse stream
as a viewer and shows the agent's screen with a clear notice and a close button. An applet without a
window (headless) has nothing to show it on and refuses.

Either side may stop: the customer closes the window (:meth:`AgentScreenGuest.closed_by_customer`), the
agent sends ``agent_screen.stop`` or ends its stream; the end of the support session ends it too
(:meth:`AgentScreenGuest.close`).
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from typing import Protocol

from opensupport.link import SessionLink
from opensupport.protocol import ControlMessage
from opensupport.tools.agent_screen import (
    TOPIC_AGENT_SCREEN_OFFER,
    TOPIC_AGENT_SCREEN_STOP,
    AgentScreenOffer,
    accepted_message,
    parse_offer,
    parse_stop,
    stop_message,
)
from opensupport.tools.messages import TOPIC_REFUSED, ToolError, ToolRequestError, control, field, parse

from .policy import Feature, FeatureDisabled, HostPolicy

__all__ = ["END_REASON_CUSTOMER_CLOSED", "AgentScreenGuest", "AgentScreenPresenter"]

log = logging.getLogger(__name__)

#: The reason sent when the customer closes the agent's screen.
END_REASON_CUSTOMER_CLOSED = "the customer closed the agent's screen"


class AgentScreenPresenter(Protocol):
    """What shows the agent's screen to the customer (the applet's window)."""

    def present(self, offer: AgentScreenOffer, server: str) -> None:
        """Join the reverse stream of ``offer`` as a viewer at ``server`` and show it (called on the
        link's thread: hand it to the GUI thread)."""

    def dismiss(self, reason: str) -> None:
        """Stop showing the agent's screen and leave the reverse stream (any thread)."""


class AgentScreenGuest:
    """The customer's side of the agent's screen in one support session (see the module docstring).

    ``policy`` returns the session's current options (None while they are not known: every offer is
    refused). Everything but :meth:`closed_by_customer` and :meth:`set_presenter` runs on the link's
    thread.
    """

    def __init__(
        self,
        link: SessionLink,
        server: str,
        policy: Callable[[], HostPolicy | None],
        *,
        post: Callable[..., bool],
    ) -> None:
        self._link = link
        self._server = server
        self._policy = policy
        self._post = post
        self._lock = threading.Lock()
        self._presenter: weakref.ref[AgentScreenPresenter] | None = None
        #: The offer being shown (None: none).
        self.current: AgentScreenOffer | None = None
        #: Offers refused so far (diagnostics and tests).
        self.refusals = 0

    def set_presenter(self, presenter: AgentScreenPresenter | None) -> None:
        """The window that shows the agent's screen (None: no window, every offer is refused)."""
        with self._lock:
            # Weakly: the window owns its presenter; a strong reference from the session would make a
            # cycle through Qt objects that only the garbage collector (on any thread) could free.
            self._presenter = weakref.ref(presenter) if presenter is not None else None

    # -- the link's thread ----------------------------------------------------------------------------------
    def handle(self, event: ControlMessage) -> bool:
        """Take an agent-screen message from the viewer; False for any other topic."""
        if event.topic == TOPIC_AGENT_SCREEN_OFFER:
            self._offer(event.data)
        elif event.topic == TOPIC_AGENT_SCREEN_STOP:
            try:
                request_id, reason = parse_stop(event.data)
            except ToolRequestError as exc:
                log.warning("malformed agent_screen.stop dropped: %s", exc)
                return True
            current = self.current
            if current is not None and current.id == request_id:
                self._end(reason or "the agent stopped showing the screen", tell_agent=False)
        else:
            return False
        return True

    def _offer(self, data: bytes) -> None:
        try:
            offer = parse_offer(data)
        except ToolRequestError as exc:
            self._refuse(_request_id(data), None, str(exc))
            return
        policy = self._policy()
        with self._lock:
            presenter = self._presenter() if self._presenter is not None else None
        try:
            if policy is None:
                raise ToolError("the agent's options are not known yet")
            policy.require(Feature.AGENT_SCREEN_SEND)
            if offer.control:
                policy.require(Feature.AGENT_SCREEN_CONTROL)
            if presenter is None:
                raise ToolError("this applet has no window to show the agent's screen on")
        except FeatureDisabled as exc:
            self._refuse(offer.id, exc.feature, str(exc))
            return
        except ToolError as exc:
            self._refuse(offer.id, None, str(exc))
            return
        previous = self.current
        if previous is not None:  # one agent screen at a time: a new offer replaces the old one
            self._end("the agent offered its screen again", tell_agent=True)
        self.current = offer
        self._send(accepted_message(offer.id, offer.control))
        log.info("showing the agent's screen (%s)", "with control" if offer.control else "view only")
        presenter.present(offer, self._server)

    def follow_policy(self) -> None:
        """The options changed under a running session: an agent screen they no longer allow ends."""
        current, policy = self.current, self._policy()
        if current is None:
            return
        for feature in (Feature.AGENT_SCREEN_SEND, Feature.AGENT_SCREEN_CONTROL):
            if (feature is Feature.AGENT_SCREEN_SEND or current.control) and (
                policy is None or not policy.allows(feature)
            ):
                self._end(str(FeatureDisabled(feature)), tell_agent=True)
                return

    def _refuse(self, request_id: int | None, feature: Feature | None, reason: str) -> None:
        self.refusals += 1
        log.info("agent screen refused: %s", reason)
        payload = {
            "id": request_id,
            "request": TOPIC_AGENT_SCREEN_OFFER,
            "tool": feature.value if feature is not None else None,
            "reason": reason,
        }
        self._send(control(TOPIC_REFUSED, payload))

    def _end(self, reason: str, *, tell_agent: bool) -> None:
        current = self.current
        if current is None:
            return
        self.current = None
        if tell_agent:
            self._send(stop_message(current.id, reason))
        with self._lock:
            presenter = self._presenter() if self._presenter is not None else None
        if presenter is not None:
            presenter.dismiss(reason)

    def _send(self, message: ControlMessage) -> None:
        if self._link.established:
            self._link.send(message)

    # -- any thread -----------------------------------------------------------------------------------------
    def closed_by_customer(self, offer_id: int, reason: str = END_REASON_CUSTOMER_CLOSED) -> None:
        """The customer closed the agent's screen of offer ``offer_id`` (or its stream ended): the agent
        is told, unless another offer replaced it meanwhile."""
        self._post(self._end_offer, offer_id, reason)

    def _end_offer(self, offer_id: int, reason: str) -> None:
        current = self.current
        if current is not None and current.id == offer_id:
            self._end(reason, tell_agent=True)

    def close(self) -> None:
        """The support session ended: the agent's screen goes with it (link's thread or after it ended)."""
        current = self.current
        self.current = None
        with self._lock:
            presenter = self._presenter() if self._presenter is not None else None
            self._presenter = None
        if current is not None and presenter is not None:
            presenter.dismiss("the support session ended")


def _request_id(data: bytes) -> int | None:
    try:
        value = field(parse(data), "id", int)
    except ToolRequestError:
        return None
    return int(value)
