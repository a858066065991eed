"""Real X programs for the host tests: an Xvfb with two RandR monitors, a window that records what reaches
it, an xterm that writes what is typed into a file, and solid windows to look for in a grab."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from Xlib import X, display

#: The test screen: two monitors of different sizes side by side, the right one shorter.
SCREEN_WIDTH, SCREEN_HEIGHT = 2304, 800
MONITORS = (("left", 0, 0, 1280, 800), ("right", 1280, 0, 1024, 768))


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
    """Poll ``predicate`` every 10 ms until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


class XServer:
    """An Xvfb of our own (the tests change its monitors and keymap, so it is not shared).

    ``monitors`` False leaves Xvfb's one automatic monitor; ``disable`` names extensions to switch off.
    """

    def __init__(self, *, monitors: bool = True, disable: tuple[str, ...] = ()) -> None:
        xvfb = shutil.which("Xvfb")
        if xvfb is None or shutil.which("xrandr") is None or shutil.which("xterm") is None:
            pytest.fail("Xvfb, xrandr and xterm are needed: run `make test` (xvfb x11-xserver-utils xterm)")
        # -displayfd: Xvfb picks a free display number itself and writes it to the pipe once it accepts
        # connections, so parallel test runs never race for a number.
        read_end, write_end = os.pipe()
        args = [xvfb, "-displayfd", str(write_end), "-nolisten", "tcp", "-noreset"]
        args += ["+extension", "RANDR", "-screen", "0", f"{SCREEN_WIDTH}x{SCREEN_HEIGHT}x24"]
        for name in disable:
            args += ["-extension", name]
        self.proc = subprocess.Popen(
            args, pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            number = pipe.readline().strip()
        if not number.isdigit():
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"Xvfb did not start (exit code {self.proc.returncode})")
        self.display = f":{number.decode()}"
        if monitors:
            self._set_monitors()
        # No server auto-repeat: a test process stalled by a loaded machine between a key's press and
        # release must not type the key twice.
        self.run("xset", "r", "off")

    def env(self) -> dict[str, str]:
        return {**os.environ, "DISPLAY": self.display, "LC_ALL": "C.UTF-8"}

    def _set_monitors(self) -> None:
        # The first monitor takes over Xvfb's one output, so that the automatic whole-screen monitor goes.
        for (name, x, y, w, h), output in zip(MONITORS, ("screen", "none"), strict=True):
            geometry = f"{w}/{w * 254 // 960}x{h}/{h * 254 // 960}+{x}+{y}"
            subprocess.run(["xrandr", "--setmonitor", name, geometry, output], env=self.env(), check=True)

    def run(self, *args: str) -> None:
        subprocess.run(list(args), env=self.env(), check=True, timeout=10)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


@dataclass
class Recorded:
    """One event a :class:`RecorderWindow` received; x, y are relative to the window."""

    kind: str  # key-press, key-release, button-press, button-release, motion
    detail: int  # keysym (level 0) for keys, button number for buttons
    x: int
    y: int
    state: int


class RecorderWindow:
    """A plain X window of our own that records the key and pointer events reaching it."""

    def __init__(self, display_name: str, x: int, y: int, width: int, height: int, colour: int = 0x336699):
        self.d = display.Display(display_name)
        self.origin = (x, y)
        screen = self.d.screen()
        mask = (
            X.KeyPressMask | X.KeyReleaseMask | X.ButtonPressMask | X.ButtonReleaseMask | X.PointerMotionMask
            | X.ExposureMask | X.StructureNotifyMask
        )  # fmt: skip
        self.window = screen.root.create_window(
            x, y, width, height, 0, screen.root_depth, X.InputOutput, X.CopyFromParent,
            background_pixel=colour, override_redirect=True, event_mask=mask,
        )  # fmt: skip
        self.window.map()
        self.d.sync()
        self.events: list[Recorded] = []
        self._mapped = False
        wait_until(lambda: self._pump() or self._mapped, what="the recorder window to map")
        self.events.clear()

    def _pump(self) -> bool:
        for _ in range(self.d.pending_events()):
            e = self.d.next_event()
            if e.type == X.MapNotify:
                self._mapped = True
            elif e.type in (X.KeyPress, X.KeyRelease):
                keysym = self.d.keycode_to_keysym(e.detail, 0)
                kind = "key-press" if e.type == X.KeyPress else "key-release"
                self.events.append(Recorded(kind, keysym, e.event_x, e.event_y, e.state))
            elif e.type in (X.ButtonPress, X.ButtonRelease):
                kind = "button-press" if e.type == X.ButtonPress else "button-release"
                self.events.append(Recorded(kind, e.detail, e.event_x, e.event_y, e.state))
            elif e.type == X.MotionNotify:
                self.events.append(Recorded("motion", 0, e.event_x, e.event_y, e.state))
        return False

    def wait_for(self, predicate: Callable[[list[Recorded]], bool], what: str) -> list[Recorded]:
        wait_until(lambda: self._pump() or predicate(self.events), what=what)
        return self.events

    def settle(self, seconds: float = 0.2) -> list[Recorded]:
        """Collect for a while (to assert that nothing arrives)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.d.sync()
            self._pump()
            time.sleep(0.01)
        return self.events

    def focus(self) -> None:
        self.window.set_input_focus(X.RevertToPointerRoot, X.CurrentTime)
        self.d.sync()

    def close(self) -> None:
        self.window.destroy()
        self.d.close()


class SolidWindow:
    """An override-redirect window of one colour at a known place."""

    def __init__(self, display_name: str, x: int, y: int, width: int, height: int, colour: int):
        self.d = display.Display(display_name)
        screen = self.d.screen()
        self.window: Any = screen.root.create_window(
            x, y, width, height, 0, screen.root_depth, X.InputOutput, X.CopyFromParent,
            background_pixel=colour, override_redirect=True,
        )  # fmt: skip
        self.window.map()
        self.d.sync()

    def close(self) -> None:
        self.window.destroy()
        self.d.sync()
        self.d.close()


class XtermCat:
    """An xterm whose shell runs ``cat > out``: what is typed into it lands in ``out`` once Ctrl+D ends cat."""

    def __init__(self, server: XServer, tmp: Path, x: int = 0, y: int = 0):
        self.out = tmp / "typed.bin"
        ready = tmp / "ready"
        title = f"cat-{os.getpid()}-{time.monotonic_ns()}"
        script = f"touch '{ready}'; exec cat > '{self.out}'"
        self.proc = subprocess.Popen(
            ["xterm", "-u8", "-T", title, "-geometry", f"80x12+{x}+{y}", "-e", "sh", "-c", script],
            env=server.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(ready.exists, timeout=10, what="xterm to start cat")
        server.run("xdotool", "search", "--sync", "--onlyvisible", "--name", title)
        # The geometry xterm really took, in pixels: where to put the pointer to give it the focus.
        self.x, self.y = x, y

    def result(self, timeout: float = 5.0) -> bytes:
        """Wait for cat to end (the test typed Ctrl+D) and return the bytes it wrote."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"xterm did not end; cat wrote so far: {self.out.read_bytes()!r}")
        return self.out.read_bytes()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Flicker:
    """A window that changes colour as fast as it can (a video, for the capture), on a thread of its own."""

    def __init__(self, display_name: str, x: int, y: int, width: int, height: int):
        self._window = SolidWindow(display_name, x, y, width, height, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        colour = 0
        while not self._stop.is_set():
            colour = (colour + 0x010203) & 0xFFFFFF
            self._window.window.change_attributes(background_pixel=colour)
            self._window.window.clear_area()
            self._window.d.sync()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._window.close()
