"""The host's gate for file transfers: the agent's options and the customer's consent, enforced here.

Which option allows what (the direction is seen from the agent, as in the manual):

| what happens | option (``host.policy``) | consent (``FILE_TRANSFER_CONSENT``) |
|---|---|---|
| the agent sends files to the customer (파일 보내기) | ``SEND_FILES`` | asked |
| the agent takes a file or folder from the customer (파일 가져오기) | ``FETCH_FILES`` | asked |
| the customer sends files to the agent (양방향 파일 전송) | ``TWO_WAY_FILES`` | not asked (the customer acts) |
| the agent pastes files the customer copied (Ctrl+C/Ctrl+V) | ``CLIPBOARD_FILES``, only paths the host announced | not asked (the customer copied them) |
| the customer pastes files the agent copied | ``CLIPBOARD_FILES`` | not asked (the customer pastes) |

A modified viewer that skips its own checks gains nothing: every decision is taken here, on the
customer's machine, before a byte is written or read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from opensupport.host.policy import FILE_TRANSFER_CONSENT, Feature, FeatureDisabled, HostPolicy
from opensupport.tools.files import Batch, TransferRefused, Verdict

__all__ = ["HostFileGate"]


@dataclass
class HostFileGate:
    """A :class:`opensupport.tools.files.TransferGate` for the host.

    ``consent_answer``: None asks the customer through the UI (``Verdict.ASK``); True or False is the
    configured answer of the headless mode. ``announced`` returns the paths the host's clipboard
    currently offers (the clipboard tool's announcement), which the agent may paste.
    """

    policy: HostPolicy
    consent_answer: bool | None = None
    announced: Callable[[], frozenset[str]] = field(default=lambda: frozenset())

    def _require(self, feature: Feature) -> None:
        try:
            self.policy.require(feature)
        except FeatureDisabled as exc:
            raise TransferRefused(str(exc)) from exc

    def _consent(self) -> Verdict:
        if not self.policy.flag(FILE_TRANSFER_CONSENT):
            return Verdict.ALLOW
        if self.consent_answer is None:
            return Verdict.ASK
        if self.consent_answer:
            return Verdict.ALLOW
        raise TransferRefused("the customer refused the transfer")

    def incoming_batch(self, batch: Batch, own_request: bool) -> Verdict:
        """The agent sends files (raises TransferRefused when send_files is off or consent is denied)."""
        if own_request:
            return Verdict.ALLOW  # the customer's own paste, checked when it was requested
        self._require(Feature.SEND_FILES)
        return self._consent()

    def peer_request(self, path: str) -> Verdict:
        """The agent asks for a path: an announced clipboard file, or 파일 가져오기."""
        if self.policy.allows(Feature.CLIPBOARD_FILES) and path in self.announced():
            return Verdict.ALLOW
        self._require(Feature.FETCH_FILES)
        return self._consent()

    def outgoing_batch(self, request_id: int) -> None:
        """The customer sends on their own initiative (answers to requests were checked already)."""
        if request_id == 0:
            self._require(Feature.TWO_WAY_FILES)

    def own_request(self, path: str) -> None:
        """The customer pastes files the agent copied."""
        self._require(Feature.CLIPBOARD_FILES)
