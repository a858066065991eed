"""The one place where the host enforces the agent's options.

The host learns the options from the server (``GET /api/host/session`` with its host token), never from the
viewer: a modified viewer gets nothing the administrator switched off. Every in-session tool asks this
policy before it acts, and a refused request is answered with a clear refusal, not silently dropped.

The keys are the server's option keys (``opensupport.server.options``); the host cannot import the server,
so ``tests/tools/test_policy.py`` checks that every key used here exists there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from opensupport.host.errors import HostError


class Feature(StrEnum):
    """An in-session capability; its value is the option key that allows it."""

    CONTROL = "control"  # special: allowed unless no_control
    CHAT = "text_chat"
    SEND_FILES = "send_files"  # agent -> customer
    FETCH_FILES = "fetch_files"  # customer -> agent
    TWO_WAY_FILES = "two_way_file_transfer"
    CLIPBOARD_FILES = "clipboard_file_transfer"
    DRAWING = "drawing"
    TWO_WAY_DRAWING = "two_way_drawing"
    SCREEN_CAPTURE = "screen_capture"
    SCREEN_RECORDING = "screen_recording"
    SYSTEM_INFO = "system_info"
    PROCESS_INFO = "process_info"
    SEND_URL = "send_url"
    FAVOURITES = "favourites"
    AGENT_SCREEN_SEND = "agent_screen_send"
    AGENT_SCREEN_CONTROL = "agent_screen_control"
    PARTIAL_SHARING = "partial_sharing"
    INVITE_AGENT = "invite_agent"
    AUTO_RECONNECT = "auto_reconnect"


#: Options that are not a capability but change how one behaves.
CONSENT_BEFORE_CONNECT = "consent_before_connect"
CONSENT_BEFORE_INVITE = "consent_before_invite"
AUTO_CONTROL = "auto_control"
NO_CONTROL = "no_control"
MANUAL_REBOOT = "manual_reboot"
#: File transfers ask the customer first. The manual lists this consent among the mobile options; the
#: host applies it to PC sessions too, since the customer of a PC deserves the same protection.
FILE_TRANSFER_CONSENT = "mobile_file_transfer_consent"


class FeatureDisabled(HostError):
    """The agent's options do not allow this feature on the host."""

    def __init__(self, feature: Feature) -> None:
        super().__init__(f"{feature.name.lower().replace('_', ' ')} is switched off for this agent")
        self.feature = feature


@dataclass(frozen=True)
class HostPolicy:
    """The agent's effective options as the host enforces them. Unknown keys are ignored; a missing
    key counts as off, so a host given nothing allows nothing but viewing."""

    options: Mapping[str, bool] = field(default_factory=dict)

    def flag(self, key: str) -> bool:
        """The raw value of one option (``False`` when absent)."""
        return bool(self.options.get(key, False))

    def allows(self, feature: Feature) -> bool:
        """Whether the feature may be used in this session."""
        if feature is Feature.CONTROL:
            return self.options.get(NO_CONTROL, True) is False
        return self.flag(feature.value)

    def require(self, feature: Feature) -> None:
        """Raise :class:`FeatureDisabled` unless the feature is allowed."""
        if not self.allows(feature):
            raise FeatureDisabled(feature)

    @property
    def allowed(self) -> frozenset[Feature]:
        """Every allowed feature (the viewer hides the others)."""
        return frozenset(f for f in Feature if self.allows(f))


#: The manual's defaults of the options the host reads (a copy: the host cannot import the server; a test
#: checks it against ``opensupport.server.options``). A host run without a server uses these.
MANUAL_DEFAULTS: Mapping[str, bool] = {
    NO_CONTROL: False,
    AUTO_CONTROL: True,
    CONSENT_BEFORE_CONNECT: False,
    CONSENT_BEFORE_INVITE: False,
    MANUAL_REBOOT: False,
    FILE_TRANSFER_CONSENT: True,
    **{f.value: True for f in Feature if f is not Feature.CONTROL},
}


def policy_from_options(overrides: Mapping[str, object] | None = None) -> HostPolicy:
    """The manual's defaults with ``overrides`` applied (``--options JSON`` of a host without a server).
    Raises ValueError for a value that is not a boolean."""
    options = dict(MANUAL_DEFAULTS)
    for key, value in (overrides or {}).items():
        if not isinstance(value, bool):
            raise ValueError(f"option {key!r} must be true or false, not {value!r}")
        options[str(key)] = value
    return HostPolicy(options)
