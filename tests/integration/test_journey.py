"""A whole support call through the real server: agent login, 상담 생성, the host with xterm on Xvfb, the
viewer offscreen, consent, control rules, the end-of-session report, the survey and the record."""

from __future__ import annotations

import html
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e import HostProcess, XServer, XtermCat, wait_until
from journey_env import AGENT_PASSWORD, ServerProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("journey-server"))
    yield proc
    proc.stop()


@pytest.fixture(autouse=True)
def _flush_qt(qapp: Any) -> Iterator[None]:
    """Deliver what the closed windows and ended sessions still queued, inside the test that made it."""
    yield
    for _ in range(3):
        qapp.processEvents()


def log_in(server: ServerProcess, login_id: str) -> Any:
    from opensupport.viewer.account import AgentAccount

    account = AgentAccount(server.url)
    account.login(login_id, AGENT_PASSWORD)
    return account


def open_viewer(
    qapp: Any, account: Any, created: Any, messages: list[str] | None = None
) -> tuple[Any, Any, Any]:
    from opensupport.viewer.account import start_journey
    from opensupport.viewer.display import DisplayModel
    from opensupport.viewer.ui.window import ViewerWindow

    window = ViewerWindow(DisplayModel())
    window.show()
    on_message = messages.append if messages is not None else None
    session, journey = start_journey(window, account, created, on_message=on_message)
    return window, session, journey


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


RETURN, CONTROL_L = 0xFF0D, 0xFFE3


def live_sessions(admin: Any) -> list[dict[str, Any]]:
    response = admin.get("/manage/remote/sessions/live.json")
    assert response.status_code == 200, response.text[:300]
    return list(response.json()["sessions"])


def run_call(
    server: ServerProcess, xserver: XServer, qapp: Any, tmp_path: Path, login_id: str, fault_id: int
) -> None:
    """The whole call: login -> online, 상담 생성 -> live, consent, typing, end report, survey, record."""
    from opensupport.viewer.events import PointerMove

    admin = server.admin()
    account = log_in(server, login_id)
    agents = admin.get("/manage/remote/agents/status.json").json()["agents"]
    row = next(a for a in agents if a["login_id"] == login_id)
    assert row["online"] is True
    assert row["ip_public"] == "127.0.0.1"
    assert row["ip_private"] == account.private_ip and row["ip_private"]
    assert row["last_login_at"] != "0000-00-00 00:00:00"

    created = account.create_session()
    assert created.customer_url.endswith(f"/s/{login_id}")
    assert created.code.routing_id.isdigit() and len(created.code.secret) > 0
    live = [s for s in live_sessions(admin) if s["id"] == created.id]
    assert live and live[0]["status"] == "waiting"

    xterm = XtermCat(xserver, tmp_path, 20, 20)
    window, session, journey = open_viewer(qapp, account, created)
    host = HostProcess(
        xserver, server.url, str(created.code),
        "--customer-name", "홍길동", "--consent", "yes", "--satisfaction", "4", "--comment", "빠르고 친절했어요",
    )  # fmt: skip
    try:
        wait_until(journey.active.is_set, 30, "the customer to accept")
        wait_until(
            lambda: any(s["id"] == created.id and s["status"] == "active" for s in live_sessions(admin)),
            10,
            "the session to show active in 상담 관리",
        )
        wait_until(lambda: session.host_view_only is False, 10, "control (자동제어모드)")
        session.sink.send(PointerMove(xterm.x + 60, xterm.y + 40))
        type_text(session, "journey ok")
        press(session, RETURN)
        press(session, CONTROL_L, ord("d"))
        assert xterm.result() == b"journey ok\n"
        started = time.monotonic()
        while time.monotonic() - started < 1.1:  # a duration of at least one whole second
            qapp.processEvents()
            time.sleep(0.05)
        session.stop("the agent finished")
        code, out, err = host.finish()
        assert code == 0, out + err
        wait_until(journey.closed.is_set, 10, "the record to be closed")
        assert journey.final_status == "ended"
        next_session = journey.finish(
            fault_type_id=fault_id, content="프린터 드라이버 재설치", resolved="resolved"
        )
    finally:
        host.close()
        session.stop()
        window.close()
        xterm.close()
    assert next_session is not None  # 원격 종료 후 세션 자동 생성
    assert next_session.id != created.id and next_session.code.routing_id != created.code.routing_id
    assert any(s["id"] == next_session.id and s["status"] == "waiting" for s in live_sessions(admin))

    record = server.record(created.id)
    assert record.status == "ended"
    assert record.agent_login_id == login_id
    assert record.agent_ip_public == "127.0.0.1" and record.agent_ip_private == account.private_ip
    assert record.agent_pc_name == account.pc_name
    assert record.customer_name == "홍길동"
    assert record.customer_ip_public == "127.0.0.1" and record.customer_ip_private
    assert record.customer_pc_name and record.customer_os and record.customer_os.startswith("Linux")
    assert (
        record.started_at is not None and record.ended_at is not None and record.ended_at > record.started_at
    )
    assert record.duration_s is not None and record.duration_s >= 1
    assert record.fault_type_id == fault_id and record.fault_type_name == "프린터"
    assert record.content == "프린터 드라이버 재설치" and record.resolved == "resolved"
    assert record.satisfaction == 4 and record.customer_comment == "빠르고 친절했어요"

    page = admin.get(f"/manage/records/{created.id}")
    assert page.status_code == 200
    text = html.unescape(page.text)
    for value in ("홍길동", "프린터 드라이버 재설치", "빠르고 친절했어요", record.customer_pc_name, login_id):
        assert value in text, value
    account.logout()
    agents = admin.get("/manage/remote/agents/status.json").json()["agents"]
    assert next(a for a in agents if a["login_id"] == login_id)["online"] is False


def test_a_whole_support_call_sqlite(
    server: ServerProcess, xserver: XServer, qapp: Any, tmp_path: Path
) -> None:
    server.add_agent("journey1", consent_before_connect=True, satisfaction_survey=True, auto_new_session=True)
    fault_id = server.add_fault_type("프린터")
    run_call(server, xserver, qapp, tmp_path, "journey1", fault_id)


def test_a_whole_support_call_postgresql(
    postgres_url: str,
    xserver: XServer,
    qapp: Any,
    tmp_path_factory: pytest.TempPathFactory,
    tmp_path: Path,
) -> None:
    server = ServerProcess(tmp_path_factory.mktemp("journey-pg"), database_url=postgres_url)
    try:
        server.add_agent(
            "journeypg", consent_before_connect=True, satisfaction_survey=True, auto_new_session=True
        )
        fault_id = server.add_fault_type("프린터")
        run_call(server, xserver, qapp, tmp_path, "journeypg", fault_id)
    finally:
        server.stop()


def test_refused_consent_is_recorded(server: ServerProcess, xserver: XServer, qapp: Any) -> None:
    server.add_agent("refuse1", consent_before_connect=True)
    account = log_in(server, "refuse1")
    created = account.create_session()
    messages: list[str] = []
    window, session, journey = open_viewer(qapp, account, created, messages)
    host = HostProcess(xserver, server.url, str(created.code), "--consent", "no")
    try:
        code, out, err = host.finish(30)
        assert code == 0, out + err
        assert "you refused the connection" in out
        wait_until(journey.closed.is_set, 15, "the viewer to close the record")
    finally:
        host.close()
        session.stop()
        window.close()
        account.logout()
    assert not journey.active.is_set()
    assert journey.final_status == "refused"
    assert "Connected — waiting for the customer to accept the connection" in messages
    assert "refused" in (session.end_message or ""), session.end_message
    record = server.record(created.id)
    assert record.status == "refused" and record.ended_at is not None
    assert record.customer_pc_name is None  # nothing about the customer's PC was sent before consent


def test_no_control_keeps_typing_out_of_the_xterm(
    server: ServerProcess, xserver: XServer, qapp: Any, tmp_path: Path
) -> None:
    from opensupport.viewer.events import PointerMove

    server.add_agent("viewonly1", no_control=True)
    account = log_in(server, "viewonly1")
    created = account.create_session()
    xterm = XtermCat(xserver, tmp_path, 20, 20)
    window, session, journey = open_viewer(qapp, account, created)
    host = HostProcess(xserver, server.url, str(created.code))
    try:
        wait_until(journey.active.is_set, 30, "the session to start")
        wait_until(lambda: session.host_view_only, 10, "the host to say view-only")
        journey.request_control()  # a request cannot open what the administrator switched off
        session.sink.send(PointerMove(xterm.x + 60, xterm.y + 40))
        type_text(session, "must never arrive")
        press(session, RETURN)
        press(session, CONTROL_L, ord("d"))
        # The same typing from the X server itself shows that the xterm was listening all along.
        time.sleep(1.0)
        assert xterm.proc.poll() is None and xterm.out.read_bytes() == b""
        xserver.run("xdotool", "mousemove", str(xterm.x + 60), str(xterm.y + 40))
        xserver.run("xdotool", "type", "--delay", "20", "ok")
        xserver.run("xdotool", "key", "Return", "ctrl+d")
        assert xterm.result() == b"ok\n"
        assert session.host_view_only
    finally:
        host.terminate()
        host.finish()
        session.stop()
        window.close()
        xterm.close()
        account.logout()


def test_five_wrong_codes_kill_the_code(server: ServerProcess, xserver: XServer, qapp: Any) -> None:
    from opensupport.protocol import SessionCode

    server.add_agent("wrong1")
    account = log_in(server, "wrong1")
    created = account.create_session()
    window, session, _journey = open_viewer(qapp, account, created)
    wrong = SessionCode.generate(created.code.routing_id)
    assert wrong.secret != created.code.secret
    try:
        for attempt in range(5):
            host = HostProcess(xserver, server.url, str(wrong))
            code, out, err = host.finish(30)
            assert code == 1, (attempt, out, err)
            assert "the session code is wrong" in err, (attempt, err)
        wait_until(session.ended.is_set, 15, "the viewer to retire the code")
        assert "retired" in (session.end_message or "")
        host = HostProcess(xserver, server.url, str(created.code))  # even the right code is dead now
        code, out, err = host.finish(30)
        assert code == 1
        assert "no longer valid" in err, err
    finally:
        session.stop()
        window.close()
        account.logout()


def test_the_desk_asks_the_report_and_opens_the_next_session(
    server: ServerProcess, xserver: XServer, qapp: Any
) -> None:
    from opensupport.viewer.display import DisplayModel
    from opensupport.viewer.ui.journey import AgentDesk
    from opensupport.viewer.ui.window import ViewerWindow

    server.add_agent("desk1", auto_new_session=True)
    fault_id = server.add_fault_type("네트워크")
    account = log_in(server, "desk1")
    asked: list[tuple[list[str], str]] = []

    def answer(window: Any, fault_types: list[Any], summary: str) -> tuple[int | None, str, str]:
        asked.append(([f.name for f in fault_types], summary))
        return fault_id, "케이블 교체", "unresolved"

    window = ViewerWindow(DisplayModel())
    window.show()
    desk = AgentDesk(window, account, ask_report=answer)
    first = account.create_session()
    desk.begin(first)
    host = HostProcess(xserver, server.url, str(first.code))
    try:
        journey = desk.journey
        assert journey is not None
        wait_until(journey.active.is_set, 30, "the session to start")
        desk.end_session()
        code, out, err = host.finish()
        assert code == 0, out + err

        def next_shown() -> bool:
            qapp.processEvents()
            return len(desk.history) == 2

        wait_until(next_shown, 15, "the next session")
    finally:
        host.close()
        desk.close()
        window.close()
    assert asked and "네트워크" in asked[0][0]
    second = desk.history[1]
    assert str(second.code) in window.remote_screen.waiting_text
    assert second.customer_url in window.remote_screen.waiting_text
    record = server.record(first.id)
    assert (record.status, record.fault_type_name, record.content, record.resolved) == (
        "ended", "네트워크", "케이블 교체", "unresolved",
    )  # fmt: skip
    assert record.satisfaction is None  # the survey is off for this agent: no answer


def test_viewer_command_logs_in_and_creates_a_session(server: ServerProcess, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    server.add_agent("cli1")
    password = tmp_path / "password"
    password.write_text(AGENT_PASSWORD + "\n")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "opensupport",
            "viewer",
            "--server",
            server.url,
            "--agent",
            "cli1",
            "--password-file",
            str(password),
            "--offscreen",
        ],
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    admin = server.admin()
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        assert "agent cli1 logged in" in line and "/s/cli1" in line, line
        agents = admin.get("/manage/remote/agents/status.json").json()["agents"]
        assert next(a for a in agents if a["login_id"] == "cli1")["online"] is True
        live = [s for s in live_sessions(admin) if s["agent_login_id"] == "cli1"]
        assert len(live) == 1 and live[0]["status"] == "waiting" and live[0]["routing_id"] in line
    finally:
        proc.terminate()
        proc.communicate(timeout=15)
    bad = tmp_path / "bad"
    bad.write_text("wrong password\n")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "opensupport",
            "viewer",
            "--server",
            server.url,
            "--agent",
            "cli1",
            "--password-file",
            str(bad),
            "--offscreen",
        ],
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "the ID or password is incorrect" in done.stderr.decode()


def test_an_administrator_ends_a_session_and_the_viewer_follows(server: ServerProcess, qapp: Any) -> None:
    from journey_env import CSRF_RE

    server.add_agent("forced1")
    account = log_in(server, "forced1")
    created = account.create_session()
    window, session, journey = open_viewer(qapp, account, created)
    admin = server.admin()
    try:
        wait_until(lambda: session.link.state.value == "waiting", 15, "the viewer to wait for the customer")
        page = admin.get("/manage/remote/sessions/")
        token = CSRF_RE.search(page.text)
        assert token, page.text[:300]
        response = admin.post(
            f"/manage/remote/sessions/{created.id}/end", data={"csrf_token": token.group(1)}
        )
        assert response.status_code in (200, 303), response.text[:300]
        account.heartbeat()  # the next heartbeat (every 20 s) says the session is no longer open
        wait_until(session.ended.is_set, 15, "the viewer to end the session")
        wait_until(journey.closed.is_set, 15, "the record to be settled")
    finally:
        session.stop()
        window.close()
        account.logout()
    assert journey.final_status == "ended"
    assert server.record(created.id).status == "ended"


def test_a_killed_host_closes_the_record_as_disconnected(
    server: ServerProcess, xserver: XServer, qapp: Any
) -> None:
    server.add_agent("killed1")
    account = log_in(server, "killed1")
    created = account.create_session()
    window, session, journey = open_viewer(qapp, account, created)
    # The relay keeps the routing id for the host to come back; a short wait keeps the test short.
    session.link._resume_timeout = 2.0
    host = HostProcess(xserver, server.url, str(created.code), "--customer-name", "Park")
    try:
        wait_until(journey.active.is_set, 30, "the session to start")
        host.proc.kill()
        wait_until(journey.closed.is_set, 30, "the viewer to give the host up")
    finally:
        host.close()
        session.stop()
        window.close()
        account.logout()
    assert journey.final_status == "disconnected"
    record = server.record(created.id)
    assert record.status == "disconnected" and record.ended_at is not None and record.customer_name == "Park"
    faults = html.unescape(server.admin().get("/manage/remote/faults/").text)
    assert f'<a href="/manage/records/{created.id}">killed1</a>' in faults  # 장애 상황 관리 lists it


def test_a_newer_login_cuts_the_first_viewer_off(server: ServerProcess, qapp: Any) -> None:
    from opensupport.viewer.account import AccountError

    server.add_agent("twice1")  # 상담원 강제 로그인 is on by default
    first = log_in(server, "twice1")
    created = first.create_session()
    window, session, journey = open_viewer(qapp, first, created)
    second = log_in(server, "twice1")
    try:
        with pytest.raises(AccountError) as refused:
            first.heartbeat()
        assert refused.value.status == 401
        wait_until(session.ended.is_set, 15, "the first viewer's session to end")
        wait_until(journey.closed.is_set, 15, "the record to be settled")
    finally:
        session.stop()
        window.close()
        first.logout()
        second.logout()
    assert server.record(created.id).status == "ended"  # it never started: ended, not a fault


def test_the_desk_takes_a_session_the_administrator_created(
    server: ServerProcess, xserver: XServer, qapp: Any
) -> None:
    from journey_env import CSRF_RE
    from opensupport.server.db.models import Agent
    from opensupport.viewer.display import DisplayModel
    from opensupport.viewer.ui.journey import AgentDesk
    from opensupport.viewer.ui.window import ViewerWindow
    from sqlalchemy import select

    server.add_agent("offer1")
    with server.db.session() as s:
        agent_row_id = s.scalar(select(Agent.id).where(Agent.login_id == "offer1"))
    account = log_in(server, "offer1")
    window = ViewerWindow(DisplayModel())
    window.show()
    desk = AgentDesk(window, account, ask_report=lambda *a: None)
    own = account.create_session()
    desk.begin(own)
    admin = server.admin()
    page = admin.get("/manage/remote/sessions/new")
    token = CSRF_RE.search(page.text)
    assert token, page.text[:300]
    response = admin.post(
        "/manage/remote/sessions/new", data={"agent_id": str(agent_row_id), "csrf_token": token.group(1)}
    )
    assert response.status_code == 200, response.text[:300]
    offered = next(s for s in live_sessions(admin) if s["agent_login_id"] == "offer1" and s["id"] != own.id)
    host = None
    try:
        account.heartbeat()

        def taken() -> bool:
            qapp.processEvents()
            return desk.created is not None and desk.created.id == offered["id"]

        wait_until(taken, 15, "the desk to take the administrator's session")
        assert desk.created is not None
        assert desk.created.code.routing_id == offered["routing_id"]
        assert str(desk.created.code) in window.remote_screen.waiting_text
        host = HostProcess(xserver, server.url, str(desk.created.code), "--customer-name", "Choi")
        journey = desk.journey
        assert journey is not None
        wait_until(journey.active.is_set, 30, "the customer to join the administrator's session")
    finally:
        if host is not None:
            host.terminate()
            host.finish()
        desk.close()
        window.close()
    assert server.record(own.id).status == "ended"  # the viewer's own waiting session was given up
    taken_record = server.record(offered["id"])
    assert taken_record.customer_name == "Choi" and taken_record.started_at is not None


def test_the_call_carries_on_across_a_server_restart(
    server: ServerProcess, xserver: XServer, qapp: Any, tmp_path: Path
) -> None:
    from opensupport.viewer.events import PointerMove

    server.add_agent("restart1")
    account = log_in(server, "restart1")
    created = account.create_session()
    xterm = XtermCat(xserver, tmp_path, 20, 20)
    window, session, journey = open_viewer(qapp, account, created)
    host = HostProcess(xserver, server.url, str(created.code), "--customer-name", "Jung")
    try:
        wait_until(journey.active.is_set, 30, "the session to start")
        wait_until(lambda: session.host_view_only is False, 10, "control")
        connections = session.link.connections
        server.restart()
        wait_until(
            lambda: session.link.connections > connections and session.link.established,
            30,
            "the session to resume through the restarted server",
        )
        account.heartbeat()  # the agent's login survives the restart (tokens are in the database)
        session.sink.send(PointerMove(xterm.x + 60, xterm.y + 40))
        type_text(session, "still here")
        press(session, RETURN)
        press(session, CONTROL_L, ord("d"))
        assert xterm.result() == b"still here\n"
        session.stop("done")
        code, out, err = host.finish()
        assert code == 0, out + err
        wait_until(journey.closed.is_set, 15, "the record to be closed")
    finally:
        host.close()
        session.stop()
        window.close()
        xterm.close()
        account.logout()
    record = server.record(created.id)
    assert record.status == "ended" and record.customer_name == "Jung" and record.duration_s is not None
