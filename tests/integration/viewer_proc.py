"""A real viewer as a process of its own, for the tests that kill it: ``python viewer_proc.py URL AGENT
PASSWORD_FILE`` logs the agent in, creates a session, prints ``{"id": record id, "code": code}`` on one
line (a test needs the code for its host; the real viewer shows it in its window only) and runs the
journey offscreen until the session ends or the process is killed."""

from __future__ import annotations

import json
import os
import sys

os.environ["QT_QPA_PLATFORM"] = "offscreen"


def main(url: str, agent: str, password_file: str) -> int:
    from opensupport.viewer.account import AgentAccount, start_journey
    from opensupport.viewer.display import DisplayModel
    from opensupport.viewer.ui.window import ViewerWindow
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    account = AgentAccount(url)
    with open(password_file, encoding="utf-8") as f:
        account.login(agent, f.readline().strip())
    created = account.create_session()
    window = ViewerWindow(DisplayModel())
    window.show()
    session, journey = start_journey(
        window, account, created, on_message=lambda text: print(text, flush=True)
    )
    print(json.dumps({"id": created.id, "code": str(created.code)}), flush=True)
    timer = QTimer()
    timer.timeout.connect(lambda: app.quit() if journey.closed.is_set() else None)
    timer.start(100)
    app.exec()
    print(json.dumps({"final_status": journey.final_status}), flush=True)
    session.stop()
    account.logout()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
