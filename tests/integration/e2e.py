"""Real programs for the end-to-end tests: an Xvfb with two RandR monitors, the host applet as a
subprocess, an offscreen viewer in this process, an xterm that writes what is typed, a recording window."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from opensupport.protocol import CodeGuard, SessionCode
from Xlib import X, display

#: The test screen: two monitors side by side.
SCREEN_WIDTH, SCREEN_HEIGHT = 1440, 600
MONITORS = (("left", 0, 0, 800, 600), ("right", 800, 0, 640, 480))


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    """Poll ``predicate`` until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


class XServer:
    """An Xvfb of our own with two RandR monitors (the tests change its keymap through the host)."""

    def __init__(self) -> None:
        xvfb = shutil.which("Xvfb")
        for tool in ("Xvfb", "xrandr", "xterm", "xset"):
            if shutil.which(tool) is None:
                pytest.fail(f"{tool} is needed: run `make test` (xvfb x11-xserver-utils xterm)")
        assert xvfb is not None
        read_end, write_end = os.pipe()
        args = [xvfb, "-displayfd", str(write_end), "-nolisten", "tcp", "-noreset", "+extension", "RANDR"]
        args += ["+extension", "DAMAGE", "-screen", "0", f"{SCREEN_WIDTH}x{SCREEN_HEIGHT}x24"]
        self.proc = subprocess.Popen(
            args, pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            number = pipe.readline().strip()
        if not number.isdigit():
            self.proc.kill()
            pytest.fail("Xvfb did not start")
        self.display = f":{number.decode()}"
        for (name, x, y, w, h), output in zip(MONITORS, ("screen", "none"), strict=True):
            geometry = f"{w}/{w * 254 // 960}x{h}/{h * 254 // 960}+{x}+{y}"
            self.run("xrandr", "--setmonitor", name, geometry, output)
        self.run("xset", "r", "off")  # a stalled test must not auto-repeat a held key

    def env(self) -> dict[str, str]:
        return {**os.environ, "DISPLAY": self.display, "LC_ALL": "C.UTF-8"}

    def run(self, *args: str) -> None:
        subprocess.run(list(args), env=self.env(), check=True, timeout=10)

    def grab(self, monitor: int = 0) -> np.ndarray:
        """The pixels of a monitor now (BGRA), as the host's capture sees them."""
        import mss

        _, x, y, w, h = MONITORS[monitor]
        with mss.MSS(display=self.display) as sct:
            shot = sct.grab({"left": x, "top": y, "width": w, "height": h})
        return np.frombuffer(shot.raw, dtype=np.uint8).reshape(h, w, 4)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


class HostProcess:
    """``opensupport host --headless`` in a subprocess."""

    def __init__(self, server: XServer, url: str, code: str, *extra: str) -> None:
        args = [sys.executable, "-m", "opensupport", "host", "--headless", "--server", url, "--code", code]
        args += ["--display", server.display, *extra]
        self.proc = subprocess.Popen(
            args,
            env={**server.env(), "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def terminate(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def finish(self, timeout: float = 15.0) -> tuple[int, str, str]:
        """Wait for the applet to end; exit code, stdout, stderr."""
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            pytest.fail(f"the host did not end: {out.decode()} {err.decode()}")
        return self.proc.returncode, out.decode(), err.decode()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


@dataclass
class Recorded:
    kind: str  # button-press, button-release, motion
    detail: int
    x: int
    y: int
    state: int


class RecorderWindow:
    """A plain X window that records the pointer events reaching it (x, y relative to the window)."""

    def __init__(self, display_name: str, x: int, y: int, width: int, height: int, colour: int = 0x336699):
        self.d = display.Display(display_name)
        screen = self.d.screen()
        mask = X.ButtonPressMask | X.ButtonReleaseMask | X.PointerMotionMask | X.StructureNotifyMask
        self.window: Any = screen.root.create_window(
            x, y, width, height, 0, screen.root_depth, X.InputOutput, X.CopyFromParent,
            background_pixel=colour, override_redirect=True, event_mask=mask,
        )  # fmt: skip
        self.window.map()
        self.d.sync()
        self.events: list[Recorded] = []

    def pump(self) -> list[Recorded]:
        self.d.sync()
        for _ in range(self.d.pending_events()):
            e = self.d.next_event()
            if e.type in (X.ButtonPress, X.ButtonRelease):
                kind = "button-press" if e.type == X.ButtonPress else "button-release"
                self.events.append(Recorded(kind, e.detail, e.event_x, e.event_y, e.state))
            elif e.type == X.MotionNotify:
                self.events.append(Recorded("motion", 0, e.event_x, e.event_y, e.state))
        return self.events

    def wait_for(self, predicate: Callable[[list[Recorded]], bool], what: str) -> list[Recorded]:
        wait_until(lambda: predicate(self.pump()), what=what)
        return self.events

    def close(self) -> None:
        self.window.destroy()
        self.d.close()


class SolidWindow:
    """An override-redirect window of one colour at a known place (a change on the host's screen)."""

    def __init__(self, display_name: str, x: int, y: int, width: int, height: int, colour: int):
        self.d = display.Display(display_name)
        screen = self.d.screen()
        self.window: Any = screen.root.create_window(
            x, y, width, height, 0, screen.root_depth, X.InputOutput, X.CopyFromParent,
            background_pixel=colour, override_redirect=True,
        )  # fmt: skip
        self.window.map()
        self.d.sync()

    def move(self, x: int, y: int) -> None:
        self.window.configure(x=x, y=y)
        self.d.sync()

    def recolour(self, colour: int) -> None:
        self.window.change_attributes(background_pixel=colour)
        self.window.clear_area()
        self.d.sync()

    def close(self) -> None:
        self.window.destroy()
        self.d.sync()
        self.d.close()


class XtermCat:
    """An xterm whose shell runs ``cat > out``: what is typed lands in ``out`` once Ctrl+D ends cat."""

    def __init__(self, server: XServer, tmp: Path, x: int = 0, y: int = 0):
        self.out = tmp / "typed.txt"
        ready = tmp / "ready"
        title = f"cat-{os.getpid()}-{time.monotonic_ns()}"
        script = f"touch '{ready}'; exec cat > '{self.out}'"
        self.proc = subprocess.Popen(
            ["xterm", "-u8", "-T", title, "-geometry", f"60x8+{x}+{y}", "-e", "sh", "-c", script],
            env=server.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(ready.exists, timeout=15, what="xterm to start cat")
        server.run("xdotool", "search", "--sync", "--onlyvisible", "--name", title)
        self.x, self.y = x, y

    def result(self, timeout: float = 10.0) -> bytes:
        """Wait for cat to end (Ctrl+D typed) and return what it wrote."""
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


class Viewer:
    """The agent's viewer window (offscreen) and its session."""

    def __init__(
        self,
        qapp: Any,
        url: str,
        code: SessionCode,
        guard: CodeGuard | None = None,
        on_event: Callable[[Any], None] | None = None,
    ) -> None:
        from opensupport.viewer.display import DisplayModel
        from opensupport.viewer.session import ViewerSession
        from opensupport.viewer.ui.window import ViewerWindow

        self.qapp = qapp
        self.window = ViewerWindow(DisplayModel())
        self.window.show()
        self.session = ViewerSession(self.window, url, code, guard=guard, on_event=on_event)
        self.session.start()
        self.sink = self.session.sink

    def pump(self) -> None:
        self.qapp.processEvents()

    def framebuffer(self) -> np.ndarray | None:
        self.pump()
        return self.window.model.store.snapshot()

    def close(self) -> None:
        self.session.stop()
        self.window.close()
        self.pump()


def assert_screen_matches(server: XServer, viewer: Viewer, monitor: int = 0, timeout: float = 15.0) -> None:
    """Wait until the viewer's framebuffer equals the host monitor's pixels (B, G, R), exactly."""
    last: dict[str, Any] = {}

    def same() -> bool:
        fb = viewer.framebuffer()
        grab = server.grab(monitor)
        last.update(fb=fb, grab=grab)
        return fb is not None and fb.shape == grab.shape and np.array_equal(fb[..., :3], grab[..., :3])

    try:
        wait_until(same, timeout, "the viewer's framebuffer to equal the host's screen")
    except pytest.fail.Exception:
        fb, grab = last.get("fb"), last["grab"]
        if fb is None or fb.shape != grab.shape:
            detail = f"viewer frame {None if fb is None else fb.shape}, host {grab.shape}"
        else:
            detail = f"{int(np.any(fb[..., :3] != grab[..., :3], axis=2).sum())} pixels differ"
        pytest.fail(f"framebuffer never matched the host's screen: {detail}")


class FrameWitness:
    """Every framebuffer the viewer decodes from :meth:`reset` on: its shapes, and whether any pixel had
    the ``marker`` colour (BGR) — what a test of partial sharing must never see."""

    def __init__(self, viewer: Viewer, marker: tuple[int, int, int]) -> None:
        self.lock = threading.Lock()
        self.reset()
        colour = np.array(marker, dtype=np.uint8)
        store = viewer.window.model.store
        original = store.decode

        # The decode worker shows each update through FrameStore.decode (the decoder's own framebuffer,
        # no copy): every decoded frame passes here.
        def decode(update: Any) -> Any:
            framebuffer, rects, resized = original(update)
            seen = bool(np.all(framebuffer[..., :3] == colour, axis=2).any())
            with self.lock:
                self.frames += 1
                self.shapes.add(framebuffer.shape[:2])
                self.marker_seen += int(seen)
            return framebuffer, rects, resized

        store.decode = decode

    def reset(self) -> None:
        with self.lock:
            self.frames = 0
            self.shapes: set[tuple[int, ...]] = set()
            self.marker_seen = 0
