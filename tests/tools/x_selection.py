"""Another X program for the clipboard tests (python-xlib, its own process, no Qt).

``x_selection.py own TARGET=HEXBYTES ...`` owns the CLIPBOARD and serves those targets until killed (it
prints "owned" once it owns it); ``x_selection.py read`` prints the CLIPBOARD as UTF8_STRING, or nothing.
"""

from __future__ import annotations

import sys
import time

from Xlib import X, Xatom, display
from Xlib.protocol import event


def own(offers: dict[str, bytes]) -> None:
    d = display.Display()
    window = d.screen().root.create_window(0, 0, 1, 1, 0, X.CopyFromParent)
    atoms = {d.intern_atom(k): v for k, v in offers.items()}
    targets = d.intern_atom("TARGETS")
    window.set_selection_owner(d.intern_atom("CLIPBOARD"), X.CurrentTime)
    d.flush()
    print("owned", flush=True)
    while True:
        e = d.next_event()
        if e.type == X.SelectionClear:
            return
        if e.type != X.SelectionRequest:
            continue
        prop = e.property
        if e.target == targets:
            e.requestor.change_property(prop, Xatom.ATOM, 32, [targets, *atoms])
        elif e.target in atoms:
            e.requestor.change_property(prop, e.target, 8, atoms[e.target])
        else:
            prop = X.NONE
        e.requestor.send_event(
            event.SelectionNotify(
                time=e.time, requestor=e.requestor, selection=e.selection, target=e.target, property=prop
            )
        )
        d.flush()


def read() -> str | None:
    d = display.Display()
    w = d.screen().root.create_window(0, 0, 1, 1, 0, X.CopyFromParent)
    prop = d.intern_atom("PROBE")
    w.convert_selection(d.intern_atom("CLIPBOARD"), d.intern_atom("UTF8_STRING"), prop, X.CurrentTime)
    d.flush()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if not d.pending_events():
            time.sleep(0.01)
            continue
        e = d.next_event()
        if e.type == X.SelectionNotify:
            if e.property == X.NONE:
                return None
            value = w.get_full_property(prop, X.AnyPropertyType)
            return bytes(value.value).decode("utf-8") if value else None
    return None


if __name__ == "__main__":
    if sys.argv[1] == "own":
        own({k: bytes.fromhex(v) for k, v in (a.split("=", 1) for a in sys.argv[2:])})
    else:
        text = read()
        sys.stdout.write("" if text is None else text)
