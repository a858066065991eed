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
#: 마우스 추적 사용: stream the customer's pointer moves to the viewer (a default the agent may switch).
MOUSE_TRACKING = "mouse_tracking"
#: 바탕화면 공유: send the desktop background as it is (off: painted plain, ``host/desktop.py``).
DESKTOP_SHARING = "desktop_sharing"
#: 파일 전송 뷰어 모드: the viewer docks its file-transfer window (off: a window of its own).
FILE_TRANSFER_VIEWER_MODE = "file_transfer_viewer_mode"

#: Options this host cannot apply, and why: the viewer lists the ones switched on (never silently
#: ignored). A host on another platform would announce its own list.
NOT_APPLICABLE_HERE: Mapping[str, str] = {
    "driver_mode": "Windows only: this host captures the X11 screen directly, there is no capture driver",
    "remote_printer": "Windows only: printing to the agent's printer needs the Windows printer driver",
    "safe_mode_reconnect": "Windows only: there is no safe mode on this customer's PC (X11)",
    "mobile_support": "no mobile host: this customer runs the PC applet; the mobile options apply to none",
}


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
    def tracks_pointer(self) -> bool:
        """마우스 추적 at the session's start. A host without a server's options (absent key) tracks, as it
        always did; the agent may switch it during the session."""
        return bool(self.options.get(MOUSE_TRACKING, True))

    @property
    def shares_desktop(self) -> bool:
        """바탕화면 공유: whether the desktop background is sent as it is (absent key: as it always was)."""
        return bool(self.options.get(DESKTOP_SHARING, True))

    def viewer_options(self) -> dict[str, object]:
        """What the viewer needs to know beside the allowed tools (topic ``session.options``): where its
        file-transfer window opens, and the options switched on that this host cannot apply, with why."""
        return {
            FILE_TRANSFER_VIEWER_MODE: self.flag(FILE_TRANSFER_VIEWER_MODE),
            "not_applicable": {k: why for k, why in NOT_APPLICABLE_HERE.items() if self.flag(k)},
        }

    @property
    def allowed(self) -> frozenset[Feature]:
        """Every allowed feature (the viewer hides the others)."""
        return frozenset(f for f in Feature if self.allows(f))


#: The manual's defaults of the options the host reads (a copy: the host cannot import the server; a test
#: checks it against ``opensupport.server.options``). A host run without a server uses these. 마우스 추적
#: and 바탕화면 공유 are left out on purpose: without an administrator's choice such a host tracks the
#: pointer and sends the screen as it is (what the pixel-exact tests compare); ``--options`` sets them.
MANUAL_DEFAULTS: Mapping[str, bool] = {
    NO_CONTROL: False,
    AUTO_CONTROL: True,
    CONSENT_BEFORE_CONNECT: False,
    CONSENT_BEFORE_INVITE: False,
    MANUAL_REBOOT: False,
    FILE_TRANSFER_CONSENT: True,
    FILE_TRANSFER_VIEWER_MODE: False,
    "driver_mode": True,
    "remote_printer": False,
    "safe_mode_reconnect": True,
    "mobile_support": True,
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
