"""상담원 초대 end to end: the real server, the real host with xterm on Xvfb, two viewers offscreen.

A second agent joins the running session; both framebuffers equal the customer's screen, also after a
change made once both watch (one stream feeds both decoders); an invited agent with control types into
the xterm, a view-only one does not; the customer's refusal opens nothing and is recorded; with 상담원 초대
off the server refuses the invitation and the host refuses a forged one; leaving keeps the session, the
session's end ends the guest's."""

from __future__ import annotations

import html
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from e2e import HostProcess, SolidWindow, XServer, XtermCat, assert_screen_matches, wait_until
from journey_env import AGENT_PASSWORD, ServerProcess

RETURN, CONTROL_L = 0xFF0D, 0xFFE3


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("invite-server"))
    yield proc
    proc.stop()


@pytest.fixture(autouse=True)
def _flush_qt(qapp: Any) -> Iterator[None]:
    yield
    for _ in range(3):
        qapp.processEvents()


class Screen:
    """A viewer window's framebuffer, for ``assert_screen_matches``."""

    def __init__(self, qapp: Any, window: Any) -> None:
        self.qapp, self.window = qapp, window

    def framebuffer(self) -> np.ndarray | None:
        self.qapp.processEvents()
        return self.window.model.store.snapshot()


def log_in(server: ServerProcess, login_id: str) -> Any:
    from opensupport.viewer.account import AgentAccount

    account = AgentAccount(server.url)
    account.login(login_id, AGENT_PASSWORD)
    return account


def new_window() -> Any:
    from opensupport.viewer.display import DisplayModel
    from opensupport.viewer.ui.window import ViewerWindow

    window = ViewerWindow(DisplayModel())
    window.show()
    return window


def type_text(session: Any, text: str) -> None:
    from opensupport.viewer.events import KeyPress, KeyRelease, keysym_for_char

    for ch in text:
        keysym = keysym_for_char(ch)
        session.sink.send(KeyPress(keysym))
        session.sink.send(KeyRelease(keysym))


def press(session: Any, *keysyms: int) -> None:
    from opensupport.viewer.events import KeyPress, KeyRelease

    for keysym in keysyms:
        session.sink.send(KeyPress(keysym))
    for keysym in reversed(keysyms):
        session.sink.send(KeyRelease(keysym))


class Call:
    """The inviting agent's running session with the headless host."""

    def __init__(self, server: ServerProcess, xserver: XServer, login_id: str, *host_args: str) -> None:
        from opensupport.viewer.account import start_journey

        self.account = log_in(server, login_id)
        self.created = self.account.create_session()
        self.window = new_window()
        self.messages: list[str] = []
        self.session, self.journey = start_journey(
            self.window, self.account, self.created, on_message=self.messages.append
        )
        self.host = HostProcess(xserver, server.url, str(self.created.code), *host_args)
        wait_until(self.journey.active.is_set, 30, "the customer's host to start the session")
        # the viewer marks the record active in the background; only a running session invites
        wait_until(lambda: server.record(self.created.id).status == "active", 10, "the record to be active")

    def close(self) -> None:
        self.host.close()
        self.session.stop()
        self.window.close()
        self.account.logout()


def invitation_row(server: ServerProcess, invitation_id: int) -> Any:
    from opensupport.server.db.models import SessionInvitation

    with server.db.session() as s:
        row = s.get(SessionInvitation, invitation_id)
        assert row is not None
        s.expunge(row)
        return row


def test_an_invited_agent_with_control_sees_and_types(
    server: ServerProcess, xserver: XServer, qapp: Any, tmp_path: Path
) -> None:
    from opensupport.viewer.events import PointerMove
    from opensupport.viewer.ui.journey import AgentDesk

    server.add_agent("inviter1", consent_before_invite=True, desktop_sharing=True)  # pixels as they are
    server.add_agent("guest1")
    xterm = XtermCat(xserver, tmp_path, 20, 20)
    call = Call(server, xserver, "inviter1", "--invite-consent", "yes")
    desk_window = new_window()
    guest_account = log_in(server, "guest1")
    guest_desk = AgentDesk(desk_window, guest_account)  # the colleague's own viewer
    guest_window = guest_session = None
    patch = None
    try:
        main_screen = Screen(qapp, call.window)
        assert_screen_matches(xserver, main_screen)
        sent = call.journey.invitations.invite(control=True, invitee="guest1")
        assert sent.code.routing_id != call.created.code.routing_id
        assert call.journey.invitations.wait_for(sent.id, ("open", "refused", "failed"), 30) == "open"
        # Session > Join an invitation… lists it; the colleague types the code it was given
        assert [(i["id"], i["control"]) for i in guest_account.open_invitations()] == [(sent.id, True)]
        guest_window = guest_desk.join_invitation(sent.code)
        guest_session = guest_desk.joined[0][1]
        guest_screen = Screen(qapp, guest_window)
        assert call.journey.invitations.wait_for(sent.id, ("joined",), 30) == "joined"
        wait_until(lambda: guest_session.host_view_only is False, 10, "the host to give the guest control")
        assert_screen_matches(xserver, guest_screen)
        # a change made once both watch reaches both: one stream, both decoders in step
        patch = SolidWindow(xserver.display, 300, 300, 120, 90, 0x3377CC)
        assert_screen_matches(xserver, guest_screen)
        assert_screen_matches(xserver, main_screen)
        # the invited agent types into the customer's xterm
        guest_session.sink.send(PointerMove(xterm.x + 60, xterm.y + 40))
        type_text(guest_session, "guest ok")
        press(guest_session, RETURN)
        press(guest_session, CONTROL_L, ord("d"))
        assert xterm.result() == b"guest ok\n"
        # closing the guest's window leaves; the session goes on
        guest_window.close()
        assert call.journey.invitations.wait_for(sent.id, ("left",), 15) == "left"
        assert not call.session.ended.is_set()
        patch.recolour(0xCC7733)
        assert_screen_matches(xserver, main_screen)
        row = invitation_row(server, sent.id)
        assert (row.joined_login_id, row.joined_name, row.consent, row.control) == (
            "guest1", "Agent guest1", "accepted", True,
        )  # fmt: skip
        assert row.joined_at is not None and row.left_at is not None and row.left_at >= row.joined_at
        call.session.stop("the agent finished")
        code, out, err = call.host.finish()
        assert code == 0, out + err
        assert "invites agent guest1" in out and "joined the session (with control)" in out, out
    finally:
        if patch is not None:
            patch.close()
        if guest_session is not None:
            guest_session.stop()
        if guest_window is not None:
            guest_window.close()
        guest_desk.close()
        desk_window.close()
        call.close()
        xterm.close()
    assert server.record(call.created.id).status == "ended"
    page = html.unescape(server.admin().get(f"/manage/records/{call.created.id}").text)
    assert "초대된 상담원" in page and "guest1 (Agent guest1)" in page and "제어 · " in page


def test_a_view_only_guest_types_nothing_and_the_sessions_end_ends_theirs(
    server: ServerProcess, xserver: XServer, qapp: Any, tmp_path: Path
) -> None:
    from opensupport.viewer.events import PointerMove
    from opensupport.viewer.invite import join_invitation

    # 상담원 초대전 고객동의 off (the manual's default): nobody is asked; the desktop as it is (pixels)
    server.add_agent("inviter2", desktop_sharing=True)
    server.add_agent("guest2")
    xterm = XtermCat(xserver, tmp_path, 20, 20)
    call = Call(server, xserver, "inviter2")
    guest_window = new_window()
    guest_account = log_in(server, "guest2")
    guest_session = None
    try:
        sent = call.journey.invitations.invite(control=False)  # any agent of the company
        assert call.journey.invitations.wait_for(sent.id, ("open", "refused", "failed"), 30) == "open"
        guest_session, _joined = join_invitation(guest_window, guest_account, sent.code)
        assert call.journey.invitations.wait_for(sent.id, ("joined",), 30) == "joined"
        wait_until(lambda: guest_session.host_view_only, 10, "the host to say view-only to the guest")
        assert_screen_matches(xserver, Screen(qapp, guest_window))
        guest_session.sink.send(PointerMove(xterm.x + 60, xterm.y + 40))
        type_text(guest_session, "must never arrive")
        press(guest_session, RETURN)
        time.sleep(1.0)  # give the guest's input every chance to arrive
        # the inviting agent (with control) types: only its text reaches the xterm
        call.session.sink.send(PointerMove(xterm.x + 60, xterm.y + 40))
        type_text(call.session, "main ok")
        press(call.session, RETURN)
        press(call.session, CONTROL_L, ord("d"))
        assert xterm.result() == b"main ok\n"
        # the main session's end ends the guest's
        call.session.stop("the agent finished")
        wait_until(guest_session.ended.is_set, 15, "the guest's session to end with the main one")
        assert "the support session ended" in (guest_session.end_message or ""), guest_session.end_message
        code, out, err = call.host.finish()
        assert code == 0, out + err
    finally:
        if guest_session is not None:
            guest_session.stop()
        guest_window.close()
        guest_account.logout()
        call.close()
        xterm.close()
    row = invitation_row(server, sent.id)
    assert row.joined_login_id == "guest2" and row.control is False and row.ended_at is not None


def test_the_customer_refuses_the_invitation(server: ServerProcess, xserver: XServer, qapp: Any) -> None:
    from opensupport.viewer.account import AccountError
    from opensupport.viewer.invite import join_invitation

    server.add_agent("inviter3", consent_before_invite=True)
    server.add_agent("guest3")
    call = Call(server, xserver, "inviter3", "--invite-consent", "no")
    guest_window = new_window()
    guest_account = log_in(server, "guest3")
    try:
        sent = call.journey.invitations.invite(control=True, invitee="guest3")
        assert call.journey.invitations.wait_for(sent.id, ("open", "refused", "failed"), 30) == "refused"
        with pytest.raises(AccountError) as refused:
            join_invitation(guest_window, guest_account, sent.code)
        assert refused.value.status == 404
        assert not call.session.ended.is_set()  # the main session goes on
        call.session.stop("the agent finished")
        code, out, err = call.host.finish()
        assert code == 0, out + err
        assert "you refused the invitation of agent guest3" in out, out
    finally:
        guest_window.close()
        guest_account.logout()
        call.close()
    row = invitation_row(server, sent.id)
    assert row.consent == "refused" and row.joined_at is None and row.ended_at is not None
    assert any("refused" in m for m in call.messages), call.messages


def test_invitations_switched_off_are_refused_by_server_and_host(
    server: ServerProcess, xserver: XServer, qapp: Any
) -> None:
    from opensupport.link.topics import TOPIC_INVITE
    from opensupport.protocol import ControlMessage, SessionCode
    from opensupport.viewer.account import AccountError
    from opensupport.viewer.ui.journey import AgentDesk

    server.add_agent("inviter4", invite_agent=False)
    server.add_agent("inviter5")
    call = Call(server, xserver, "inviter4")
    other = log_in(server, "inviter5")
    desk_windows = [new_window(), new_window()]
    try:
        # the viewer hides Session > Invite agent… when the option is off
        assert AgentDesk(desk_windows[0], call.account).invite_action.isVisible() is False
        assert AgentDesk(desk_windows[1], other).invite_action.isVisible() is True
        with pytest.raises(AccountError) as refused:
            call.journey.invitations.invite(control=True)
        assert refused.value.status == 403 and "switched off" in str(refused.value)
        # a modified viewer sends an invitation anyway: the host's own policy refuses it
        forged = json.dumps({"id": 424242, "code": str(SessionCode.generate("12345678"))}).encode()
        call.session.link_thread.call(call.session.link.send, ControlMessage(TOPIC_INVITE, forged))
        assert call.journey.invitations.wait_for(424242, ("refused", "open", "failed"), 15) == "refused"
        assert "switched off" in call.journey.invitations.states[424242][1]
        call.session.stop("the agent finished")
        code, out, err = call.host.finish()
        assert code == 0, out + err
    finally:
        for window in desk_windows:
            window.close()
        other.logout()
        call.close()


def test_the_viewer_command_joins_an_invitation(
    server: ServerProcess, xserver: XServer, qapp: Any, tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys

    from opensupport.protocol import SessionCode

    server.add_agent("inviter6")
    server.add_agent("guest6")
    password = tmp_path / "password"
    password.write_text(AGENT_PASSWORD + "\n")

    def viewer(code: str) -> subprocess.Popen[bytes]:
        args = [sys.executable, "-m", "opensupport", "viewer", "--server", server.url, "--agent", "guest6"]
        args += ["--password-file", str(password), "--join", code, "--offscreen"]
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONUNBUFFERED": "1"}
        return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    # a code nobody issued: refused with the server's reason
    done = viewer(str(SessionCode.generate("99999999")))
    _out, err = done.communicate(timeout=60)
    assert done.returncode == 1 and "no open invitation" in err.decode(), err
    call = Call(server, xserver, "inviter6")
    proc = None
    try:
        sent = call.journey.invitations.invite(control=False)
        assert call.journey.invitations.wait_for(sent.id, ("open", "refused", "failed"), 30) == "open"
        proc = viewer(str(sent.code))
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        assert f"agent guest6 joins invitation {sent.code.routing_id}" in line, line
        assert str(sent.code.secret) not in line  # the secret half stays off the terminal
        assert call.journey.invitations.wait_for(sent.id, ("joined",), 30) == "joined"
        assert invitation_row(server, sent.id).joined_login_id == "guest6"
        call.session.stop("the agent finished")  # the guest's session ends with the main one
        code, out_text, err_text = call.host.finish()
        assert code == 0, out_text + err_text
        assert "the agent guest6 closed: the support session ended" in out_text, out_text
    finally:
        if proc is not None:
            proc.terminate()
            proc.communicate(timeout=15)
        call.close()
    row = invitation_row(server, sent.id)
    assert row.left_at is not None and row.ended_at is not None  # the host recorded the guest's end
