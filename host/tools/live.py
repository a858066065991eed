"""Every in-session tool of one live host session, wired to its link.

:class:`HostSessionTools` is what :class:`~opensupport.host.session.HostSession` hands the events it does
not handle itself (on the link's thread):

- drawing, screenshot/recording notices, system info, processes, URLs and favourites go to the
  :class:`~opensupport.host.tools.runner.HostToolsRunner` (slow tools in its worker);
- chat, files, folder listings and the clipboard go to the :class:`~opensupport.host.tools.exchange.HostExchange`;
  file transfers pump after every received record (credit and acknowledgements have no event of their own)
  and after every local action posted through :meth:`post`.

Every decision goes through the one :class:`~opensupport.host.policy.HostPolicy` of the session, which
came from the server (or, without a server, from the manual's defaults and ``--options``), never from the
viewer. After each handshake and resume :meth:`hello` announces the allowed tools (``tool.allowed``), so
the viewer hides the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from opensupport.link import LinkOutbox, LinkThread, SessionLink
from opensupport.protocol import DrawingClear, DrawingStroke, Event, KeyframeRequest, Session
from opensupport.tools.chat import Transcript
from opensupport.tools.clipboard import ClipboardBackend
from opensupport.tools.urls import Favourites

from ..policy import FeatureDisabled, HostPolicy
from .exchange import HostExchange
from .runner import HostToolsRunner
from .support import HostTools

__all__ = ["HostSessionTools"]

log = logging.getLogger(__name__)


class HostSessionTools:
    """The tools of one host session (see the module docstring).

    ``download_dir`` receives the agent's files; ``consent_answer`` None asks the customer through the
    window (``exchange.files.consents``), True/False is the headless answer. ``on_notice(text)`` tells the
    customer what the agent did (from the link's or the tools' worker thread).
    """

    def __init__(
        self,
        link: SessionLink,
        link_thread: LinkThread,
        policy: HostPolicy,
        *,
        download_dir: Path,
        consent_answer: bool | None = None,
        clipboard: ClipboardBackend | None = None,
        favourites: Favourites | None = None,
        on_notice: Callable[[str], None] | None = None,
    ) -> None:
        self.policy = policy
        self._link = link
        self._link_thread = link_thread
        self.transcript = Transcript()
        self.outbox = LinkOutbox(link)
        self._notice_listeners: list[Callable[[str], None]] = [on_notice] if on_notice is not None else []
        self.runner = HostToolsRunner(
            HostTools(policy, favourites=favourites, on_notice=self._notice), link.send, link_thread.call
        )
        # HostExchange needs of a session only what an Outbox offers (send, role, credit, buffer space).
        self.exchange = HostExchange(
            cast(Session, self.outbox),
            policy,
            download_dir=download_dir,
            consent_answer=consent_answer,
            clipboard=clipboard,
            transcript=self.transcript,
        )
        link.add_round_hook(self.exchange.pump)
        self.closed = False

    def add_notice_listener(self, listener: Callable[[str], None]) -> None:
        """Tell ``listener(text)`` too what the agent did (called from the link's or the worker's thread)."""
        self._notice_listeners.append(listener)

    def remove_notice_listener(self, listener: Callable[[str], None]) -> None:
        """Stop telling ``listener`` (a closing window)."""
        if listener in self._notice_listeners:
            self._notice_listeners.remove(listener)

    def _notice(self, text: str) -> None:
        for listener in list(self._notice_listeners):
            try:
                listener(text)
            except Exception:
                log.exception("a notice listener failed")

    @property
    def tools(self) -> HostTools:
        """Drawing, capture notices, information tools."""
        return self.runner.tools

    # -- on the link's thread ----------------------------------------------------------------------------
    def hello(self) -> None:
        """After a handshake or resume: the allowed tools and the strokes on screen."""
        self.runner.hello()
        self.exchange.pump()

    def handle(self, event: Event) -> bool:
        """Route one event from the viewer; False if no tool takes it."""
        if self.closed:
            return False
        answers = self.exchange.handle(event)
        if answers is not None:
            for answer in answers:
                self._link.send(answer)
            self.exchange.pump()
            return True
        return self.runner.on_event(event)

    def keyframe_allowed(self, request: KeyframeRequest) -> bool:
        """Whether to honour a viewer's key-frame request (recording key frames need the option)."""
        return self.tools.keyframe_allowed(request)

    # -- from any thread ---------------------------------------------------------------------------------
    def post(self, func: Callable[..., Any], *args: Any) -> bool:
        """Run ``func(*args)`` on the link's thread, then pump the transfers (the UIs' ``post``)."""

        def run() -> None:
            try:
                func(*args)
            finally:
                self.exchange.pump()

        return self._link_thread.call(run)

    def customer_draw(self, event: DrawingStroke | DrawingClear) -> None:
        """The customer drew on the overlay (any thread): checked against the policy, then sent."""

        def run() -> None:
            try:
                self._link.send(self.tools.customer_draw(event))
            except FeatureDisabled as exc:
                log.info("the customer's stroke was not sent: %s", exc)

        self._link_thread.call(run)

    def say(self, text: str) -> None:
        """The customer writes a chat line (any thread). Raises nothing; a refused line is logged."""

        def run() -> None:
            try:
                self.exchange.chat.say(text)
            except Exception as exc:  # FeatureDisabled, ChatError: nothing to send
                log.info("chat line not sent: %s", exc)

        self.post(run)

    def close(self) -> None:
        """The session ended: partial files dealt with, the worker stopped (idempotent)."""
        if self.closed:
            return
        self.closed = True
        self.exchange.close()
        self.runner.close()
