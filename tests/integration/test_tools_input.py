"""End to end: a key combination from the viewer's "Send keys" menu travels as one KeyCombo and reaches a
real program (Ctrl+D ends ``cat`` in an xterm), after text typed as an input method's commit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from e2e import HostProcess, Viewer, XServer, XtermCat, wait_until
from opensupport.protocol import KeyCombo, SessionCode
from relay_proc import RelayProcess

pytestmark = pytest.mark.xvfb


def test_send_keys_menu_combination_reaches_the_xterm(
    xserver: XServer, shared_relay: RelayProcess, qapp: Any, tmp_path: Path
) -> None:
    from opensupport.viewer.events import Keysym, PointerMove, TextInput
    from opensupport.viewer.input import KeyCombination

    code = SessionCode.generate()
    sent: list[object] = []
    viewer = Viewer(qapp, shared_relay.url, code)
    host = HostProcess(xserver, shared_relay.url, str(code))
    xterm = XtermCat(xserver, tmp_path, 20, 20)
    try:
        wait_until(lambda: viewer.pump() or viewer.session.link.established, 20, "the session")
        real_send = viewer.session.link.send
        viewer.session.link.send = lambda e: sent.append(e) or real_send(e)  # type: ignore[method-assign]
        viewer.sink.send(PointerMove(xterm.x + 60, xterm.y + 40))  # no window manager: focus follows
        viewer.sink.send(TextInput("콤보 test"))
        viewer.window.send_combination(KeyCombination("Enter", (Keysym.RETURN,)))
        viewer.window.send_combination(KeyCombination("Ctrl+D", (Keysym.CONTROL_L, ord("d"))))
        assert xterm.result().decode("utf-8") == "콤보 test\n"
        assert KeyCombo((Keysym.CONTROL_L, ord("d"))) in sent  # one message, not four key events
    finally:
        xterm.close()
        host.terminate()
        host.finish()
        viewer.close()
