"""The host's chat: a line from the agent is shown and recorded only when text chat is allowed."""

from __future__ import annotations

import logging

from opensupport.host.policy import Feature, HostPolicy
from opensupport.protocol import ChatMessage, Event
from opensupport.tools.chat import Chat, ChatLine
from opensupport.tools.messages import TOPIC_REFUSED, control

__all__ = ["HostChat"]

log = logging.getLogger(__name__)


class HostChat:
    """Enforces ``text_chat`` on the host around a :class:`~opensupport.tools.chat.Chat`."""

    def __init__(self, policy: HostPolicy, chat: Chat) -> None:
        self.policy = policy
        self.chat = chat
        self.refusals = 0

    def handle(self, event: Event) -> list[Event] | None:
        """The answer to a chat line from the viewer (an empty list, or a ``tool.refused`` when chat is
        off: the line is neither shown nor recorded), or None if ``event`` is not chat."""
        if not isinstance(event, ChatMessage):
            return None
        if not self.policy.allows(Feature.CHAT):
            self.refusals += 1
            log.info("refused a chat line: text chat is switched off")
            reason = "text chat is switched off for this agent"
            return [
                control(
                    TOPIC_REFUSED,
                    {"id": None, "request": "chat", "tool": Feature.CHAT.value, "reason": reason},
                )
            ]
        self.chat.receive(event)
        return []

    def say(self, text: str) -> ChatLine:
        """The customer writes. Raises FeatureDisabled when chat is off, ChatError for a bad line."""
        self.policy.require(Feature.CHAT)
        return self.chat.say(text)
