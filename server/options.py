"""The agent's options (기능 및 설정 옵션): the manual's 14 settings, 19 feature and 7 mobile options.

Each option is one line of :data:`OPTIONS`: its key (used in the database, the API and by the host and
viewer), its group, its default from the manual, and its label and description as English msgids that the
``messages`` catalogue turns into the manual's Korean. Adding an option is one more line here: values live
in the agent's JSON column and an agent that never had the option set gets its default.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class OptionGroup(StrEnum):
    """The three tables of the manual's option page."""

    SETTINGS = "settings"  # 설정 옵션
    FEATURES = "features"  # 기능 옵션
    MOBILE = "mobile"  # 모바일 기능 옵션


@dataclass(frozen=True)
class OptionSpec:
    """One boolean option of an agent."""

    key: str
    group: OptionGroup
    default: bool
    label: str
    description: str


S, F, M = OptionGroup.SETTINGS, OptionGroup.FEATURES, OptionGroup.MOBILE

OPTIONS: tuple[OptionSpec, ...] = (
    # 설정 옵션
    OptionSpec("force_login", S, True, "Forced agent login", "On a duplicate login, the later login cuts off the existing one."),
    OptionSpec("consent_before_connect", S, False, "Customer consent before connecting", "The remote connection is made only after the customer agrees."),
    OptionSpec("satisfaction_survey", S, False, "Customer satisfaction survey", "The customer can answer a satisfaction survey."),
    OptionSpec("driver_mode", S, True, "Use driver mode", "Driver mode is used by default."),
    OptionSpec("mouse_tracking", S, False, "Use mouse tracking", "Mouse tracking is used by default."),
    OptionSpec("auto_control", S, True, "Automatic control on connecting", "The agent takes control automatically when connected."),
    OptionSpec("no_control", S, False, "Agent may not control", "The agent cannot control the customer's PC."),
    OptionSpec("file_transfer_viewer_mode", S, False, "File transfer viewer mode", "For two-way file transfer, the transfer window opens in the viewer."),
    OptionSpec("manual_reboot", S, False, "Manual reboot", "For reboot and automatic reconnection, the PC is rebooted manually."),
    OptionSpec("consent_before_invite", S, False, "Customer consent before inviting an agent", "The customer's consent is asked before another agent is invited."),
    OptionSpec("clipboard_file_transfer", S, True, "Ctrl+C/Ctrl+V file transfer", "Files can be transferred with Ctrl+C/Ctrl+V."),
    OptionSpec("remote_printer", S, False, "Remote printer", "The remote printer feature is used."),
    OptionSpec("auto_new_session", S, False, "New session automatically after the end", "A new session is created automatically after a remote session ends."),
    OptionSpec("desktop_sharing", S, False, "Desktop sharing", "The customer's desktop is shared."),
    # 기능 옵션
    OptionSpec("partial_sharing", F, True, "Partial sharing", "Partial sharing can be used."),
    OptionSpec("two_way_file_transfer", F, True, "Two-way file transfer", "Two-way file transfer can be used."),
    OptionSpec("auto_reconnect", F, True, "Automatic reconnection", "Reconnects automatically after the customer's PC reboots."),
    OptionSpec("send_url", F, True, "Send URL", "Sends a URL to the customer's PC."),
    OptionSpec("text_chat", F, True, "Text chat", "Chat with the customer."),
    OptionSpec("system_info", F, True, "View system information", "Shows the customer PC's system information."),
    OptionSpec("process_info", F, True, "View process information", "Shows and controls the customer PC's processes."),
    OptionSpec("screen_capture", F, True, "Screen capture", "Captures the screen being controlled."),
    OptionSpec("agent_screen_send", F, True, "Send agent screen", "Sends the agent's screen to the customer's PC (no control)."),
    OptionSpec("favourites", F, True, "Favourites", "Opens frequently used URLs, programs and folders on the customer's PC."),
    OptionSpec("drawing", F, True, "Drawing", "The agent can draw on the customer's screen."),
    OptionSpec("two_way_drawing", F, True, "Two-way drawing", "The customer and the agent can draw at the same time."),
    OptionSpec("screen_recording", F, True, "Screen recording", "Records the screen being controlled."),
    OptionSpec("agent_screen_control", F, True, "Agent screen control", "Sends the agent's screen to the customer's PC (with control)."),
    OptionSpec("send_files", F, True, "Send files", "Files can be sent."),
    OptionSpec("fetch_files", F, True, "Fetch files", "Files can be fetched."),
    OptionSpec("invite_agent", F, True, "Invite an agent", "Another agent can be invited."),
    OptionSpec("safe_mode_reconnect", F, True, "Reconnect after a safe-mode reboot", "Reconnects automatically after the customer's PC reboots into safe mode."),
    OptionSpec("mobile_support", F, True, "Mobile remote support", "Remote support of the customer's mobile device."),
    # 모바일 기능 옵션
    OptionSpec("mobile_no_control", M, False, "Agent may not control", "The agent cannot control the customer's mobile device."),
    OptionSpec("mobile_two_way_file_transfer", M, True, "Two-way file transfer", "Two-way file transfer can be used."),
    OptionSpec("mobile_file_transfer_consent", M, True, "Customer consent for file transfer", "Files are transferred only with the customer's consent."),
    OptionSpec("mobile_app_share_consent", M, False, "Consent to application sharing", "Shows a consent pop-up for sharing the customer's application."),
    OptionSpec("mobile_no_drawing", M, False, "Drawing disabled", "Drawing features are not used."),
    OptionSpec("mobile_start_maximised", M, False, "Start the program maximised", "The program starts maximised."),
    OptionSpec("mobile_fill_on_rotate", M, False, "Show at maximised ratio", "On rotation, the screen fills the display instead of keeping its aspect ratio."),
)  # fmt: skip

OPTIONS_BY_KEY: dict[str, OptionSpec] = {o.key: o for o in OPTIONS}


def options_in(group: OptionGroup) -> list[OptionSpec]:
    """The options of one group, in the manual's order."""
    return [o for o in OPTIONS if o.group is group]


def defaults() -> dict[str, bool]:
    """Every option with the manual's default."""
    return {o.key: o.default for o in OPTIONS}


def effective_options(stored: dict[str, Any]) -> dict[str, bool]:
    """Every option: the stored value where one is stored (and still known), else the default."""
    result = defaults()
    for key, value in stored.items():
        if key in result and isinstance(value, bool):
            result[key] = value
    return result


def validate_options(values: dict[str, Any]) -> dict[str, bool]:
    """Check a partial ``key -> bool`` mapping; raises ``ValueError`` naming an unknown key or bad value."""
    checked: dict[str, bool] = {}
    for key, value in values.items():
        if key not in OPTIONS_BY_KEY:
            raise ValueError(f"unknown option {key!r}")
        if not isinstance(value, bool):
            raise ValueError(f"option {key!r} must be true or false")
        checked[key] = value
    return checked
