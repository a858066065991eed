"""Browser-test infrastructure: the real server on a free port and Debian's Chromium through Playwright.

- ``live_server`` (module scope): ``create_app`` on a fresh SQLite data folder, served by uvicorn in a
  background thread on 127.0.0.1; ``.url`` is its base URL, ``.app`` the application.
- ``browser`` (module scope): Chromium from the ``chromium`` Debian package (no browser download), with
  the flags PITFALLS.md lists.
- ``page``: a fresh browser context and page (Korean, like a Korean administrator's browser).
- ``login(page, url)``: logs in as ``admin`` through the login form.

Nothing is skipped: without Chromium or Playwright the fixtures fail and say what to install.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ADMIN_PASSWORD = "browser-admin-pass"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class LiveServer:
    url: str
    app: Any


def start_server(data_dir: Path, **settings_changes: Any) -> tuple[LiveServer, Any, threading.Thread]:
    """Start the server on a free port in a thread; returns it with the uvicorn server and the thread."""
    import dataclasses

    import uvicorn
    from opensupport.server.app import create_app
    from opensupport.server.config import Settings

    from tests.conftest import free_port

    settings = Settings.from_env(data_dir, environ={"OPENSUPPORT_ADMIN_PASSWORD": ADMIN_PASSWORD})
    if settings_changes:
        settings = dataclasses.replace(settings, **settings_changes)
    app = create_app(settings, announce=False)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="opensupport-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the test server did not start")
        time.sleep(0.02)
    return LiveServer(f"http://127.0.0.1:{port}", app), server, thread


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The whole server (admin web, API, relay) on 127.0.0.1 with a fresh SQLite database."""
    live, server, thread = start_server(tmp_path_factory.mktemp("server-data"))
    try:
        yield live
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright.

    Module scope: Playwright's sync API allows one instance at a time in a process, so a module that
    starts its own must not find this one still running.
    """
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Chromium is not installed: run `make test` (it installs the Debian package chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is missing: pip install -e '.[dev]'")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page in its own context (cookies not shared between tests), Korean locale."""
    context = browser.new_context(locale="ko-KR")
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def login(page: Any, base_url: str, login_id: str = "admin", password: str = ADMIN_PASSWORD) -> None:
    """Log in through the form at /manage/ and enter the admin pages (관리자페이지 이동)."""
    page.goto(base_url + "/manage/")
    page.get_by_label("ID", exact=True).fill(login_id)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="로그인").click()
    page.get_by_role("link", name="관리자페이지 이동").click()
