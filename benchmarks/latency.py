"""``opensupport bench latency [--json]``: the remote-control path end to end, on loopback.

A private Xvfb at 1920x1080, a relay (``python -m opensupport.server.relay``) and the host applet
(``opensupport host --headless``) in processes of their own, the viewer (its real window, offscreen, with its
decode worker) in this process. Measured:

- ``change``: a window of our own is filled with a new colour (python-xlib, the X server has drawn it when
  ``sync()`` returns: that is t0); t1 is when the decode worker has copied the update into the viewer's
  framebuffer and the probe pixel shows the colour. Samples are spaced 20-60 ms apart, so each is a fresh
  change on an idle pipeline.
- ``key``: a key press sent through the viewer's input sink (t0) until the xterm's echo of that character
  is in the viewer's framebuffer (the first update touching the xterm's text area after t0).
- ``scroll_fps``: screen updates per second that reach the viewer's framebuffer while Chromium scrolls a
  long page by itself (``requestAnimationFrame`` scrolling 4 px a frame), over 5 s.
- ``idle_cpu_pct``: the host process's CPU time over 5 s of an idle screen (all its threads), in % of one
  core.
- ``limited_*``: the ``change`` measurement again through a second relay whose per-session token bucket
  holds the link to 10 Mbit/s (``session_bandwidth``, a 64 KiB burst), with the generated-landscape video
  of the codec corpus (``record.landscape_video``) playing at 25 fps in a 960x540 window beside the
  change window, the bandwidth mode automatic (the default): after a warm-up in which the host finds its
  quality, ``limited_change_p50_ms`` / ``p99``, the updates per second reaching the viewer while the video
  plays, and the quality and throughput the host reports at the end.

Targets (issue 5): change p50 <= 16 ms, p99 <= 40 ms; key p50 <= 30 ms; scroll >= 60 fps; idle <= 3 %.
Issue 8: change p50 < 100 ms on the 10 Mbit/s link with the video playing.
The machine's load average is reported alongside: other processes on a shared machine skew every figure.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["LatencyResult", "main", "run"]

WIDTH, HEIGHT = 1920, 1080
#: Where the change window sits, and the pixel probed in the viewer's framebuffer.
CHANGE_RECT = (1500, 100, 300, 200)
PROBE = (1650, 200)
#: The xterm for the key test (columns x rows, top-left corner).
XTERM_POS = (40, 600)
#: The limited link: 10 Mbit/s in bytes per second, and its token bucket's burst.
LIMITED_RATE, LIMITED_BURST = 10_000_000 // 8, 64 * 1024
#: Where the video plays during the limited run (beside CHANGE_RECT), its pictures per second, and how
#: many different pictures it plays forth and back (2 MB each).
VIDEO_RECT, VIDEO_FPS, VIDEO_LOOP = (60, 300, 960, 540), 25.0, 48


@dataclass(frozen=True)
class LatencyResult:
    """The figures of one run (milliseconds, frames per second, percent of a core)."""

    change_p50_ms: float
    change_p99_ms: float
    key_p50_ms: float
    scroll_fps: float
    idle_cpu_pct: float
    #: how often Chromium itself repainted while scrolling (X DAMAGE bursts): the ceiling of scroll_fps
    browser_paint_fps: float
    #: the host process's CPU while Chromium scrolls (% of one core)
    scroll_host_cpu_pct: float
    change_samples: int
    key_samples: int
    load_average: float
    #: the limited run: the link's rate, change -> viewer with the video playing, updates per second reaching
    #: the viewer meanwhile, the quality and throughput the host reported at its end, samples measured
    limited_link_mbit: float
    limited_change_p50_ms: float
    limited_change_p99_ms: float
    limited_video_fps: float
    #: pictures per second the video player actually showed (25 asked; a loaded machine shows fewer)
    limited_video_source_fps: float
    limited_quality: str
    limited_throughput_mbit: float
    limited_change_samples: int


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


class _Probe:
    """Watches the viewer's decoded updates (called on the decode worker's thread, after the copy into the
    framebuffer) and wakes a waiter when a condition on the framebuffer holds."""

    def __init__(self, window: Any) -> None:
        self.store = window.model.store
        self.condition: Callable[[Any, Any], bool] | None = None
        self.hit = threading.Event()
        self.hit_at = 0.0
        self.updates = 0

    def on_update(self, update: Any) -> None:
        self.updates += 1
        condition = self.condition
        if condition is not None and not self.hit.is_set():
            buffer = self.store.buffer
            if buffer is not None and condition(buffer, update):
                self.hit_at = time.perf_counter()
                self.hit.set()

    def arm(self, condition: Callable[[Any, Any], bool]) -> None:
        self.hit.clear()
        self.condition = condition

    def wait(self, timeout: float = 5.0) -> float | None:
        ok = self.hit.wait(timeout)
        self.condition = None
        return self.hit_at if ok else None


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.01)


def _long_page(directory: Path) -> Path:
    paragraphs = []
    for i in range(600):
        words = " ".join(
            random.choice(["remote", "support", "screen", "agent", "원격", "지원", "session"])
            for _ in range(60)
        )
        paragraphs.append(f"<h3>Section {i}</h3><p>{words}</p>")
    page = directory / "long.html"
    page.write_text(
        "<!doctype html><meta charset=utf-8><body style='font:16px sans-serif;margin:40px'>"
        + "".join(paragraphs)
        + "<script>function step(){window.scrollBy(0,4);"
        "if(window.scrollY+innerHeight>=document.body.scrollHeight)window.scrollTo(0,0);"
        "requestAnimationFrame(step)}requestAnimationFrame(step)</script>",
        encoding="utf-8",
    )
    return page


def _start_relay(port: int, rate: int, burst: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "opensupport.server.relay", "--port", str(port), "--loop", "asyncio",
         "--set", f"session_bandwidth={rate}", "--set", f"session_burst={burst}"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip


@dataclass
class _Viewer:
    """One session: the viewer's window, its probe and session in this process, the host's process."""

    window: Any
    probe: _Probe
    session: Any
    host: subprocess.Popen[bytes]

    def stop(self) -> None:
        self.session.stop("benchmark done", timeout=3)
        if self.host.poll() is None:
            self.host.terminate()
            try:
                self.host.wait(10)
            except subprocess.TimeoutExpired:
                self.host.kill()
        self.window.close()


def _open_session(app: Any, url: str, screen: Any, processes: list[subprocess.Popen[bytes]]) -> _Viewer:
    """A viewer window (offscreen) and a headless host process on ``screen``, connected through ``url``."""
    from opensupport.protocol import SessionCode
    from opensupport.viewer.display import DisplayModel
    from opensupport.viewer.session import ViewerSession
    from opensupport.viewer.ui.window import ViewerWindow
    from PySide6.QtCore import Qt

    code = SessionCode.generate()
    window = ViewerWindow(DisplayModel())
    window.show()
    probe = _Probe(window)
    # A direct connection: the probe runs on the decode worker's thread right after the copy.
    window.bridge.frame_updated.connect(probe.on_update, Qt.ConnectionType.DirectConnection)
    session = ViewerSession(window, url, code)
    session.start()
    host = subprocess.Popen(
        [sys.executable, "-m", "opensupport", "host", "--headless", "--server", url, "--code", str(code),
         "--display", screen.display],
        env={**screen.env, "LC_ALL": "C.UTF-8"}, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    processes.append(host)
    _wait(lambda: session.link.established, 30, "the session")
    _wait(lambda: window.model.store.size == (WIDTH, HEIGHT), 30, "the first frame")
    app.processEvents()
    return _Viewer(window, probe, session, host)


def _measure_changes(display_name: str, viewer: _Viewer, app: Any, samples: int) -> list[float]:
    """Fill a window of our own with a new colour ``samples`` times; the milliseconds until each colour is
    in the viewer's framebuffer (a change that does not arrive within 5 s is left out)."""
    from Xlib import X
    from Xlib import display as xdisplay

    d = xdisplay.Display(display_name)
    root = d.screen().root
    x, y, w, h = CHANGE_RECT
    win = root.create_window(
        x, y, w, h, 0, d.screen().root_depth, X.InputOutput, X.CopyFromParent,
        background_pixel=0, override_redirect=True,
    )  # fmt: skip
    win.map()
    d.sync()
    time.sleep(0.5)
    change_ms: list[float] = []
    px, py = PROBE
    probe = viewer.probe
    for i in range(samples):
        colour = (0x10 + (i * 37) % 0xE0) << 16 | (0x20 + (i * 91) % 0xD0) << 8 | (0x30 + i % 0xC0)
        b, g, r = colour & 0xFF, (colour >> 8) & 0xFF, colour >> 16

        def shows(buffer: Any, update: Any, b: int = b, g: int = g, r: int = r) -> bool:
            return bool(buffer[py, px, 0] == b and buffer[py, px, 1] == g and buffer[py, px, 2] == r)

        probe.arm(shows)
        win.change_attributes(background_pixel=colour)
        win.clear_area()
        d.sync()
        t0 = time.perf_counter()
        t1 = probe.wait()
        if t1 is not None:
            change_ms.append((t1 - t0) * 1000)
        app.processEvents()
        time.sleep(random.uniform(0.02, 0.06))
    win.destroy()
    d.close()
    return change_ms


class _VideoPlayer:
    """The codec corpus's generated landscape video (``record.landscape_video``) in a window of its own
    (``record.PictureWindow``), played at ``fps`` by a process of its own, as a video player is: in this
    process it would share the interpreter with the viewer and stall, and a stalled video is a still
    picture to the codec."""

    def __init__(self, screen: Any, rect: tuple[int, int, int, int], fps: float) -> None:
        args = [screen.display, *map(str, rect), str(fps)]
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "import sys; from opensupport.benchmarks.latency import play_video; "
             "play_video(sys.argv[1:])", *args],
            env=screen.env, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        # The first picture is on the screen (making the scene takes seconds: not playing time).
        if self.proc.stdout.readline().strip() != "playing":
            raise RuntimeError("the video player did not start")

    def close(self) -> float:
        """Stop; the pictures per second actually shown."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            out, _ = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return float("nan")
        try:
            shown, seconds = out.split()
            return int(shown) / float(seconds)
        except ValueError:
            return float("nan")


def play_video(argv: Sequence[str]) -> None:
    """The video player's process: ``DISPLAY X Y W H FPS``; prints "playing" once the first picture is
    shown, and on SIGTERM the pictures shown and the seconds played."""
    from types import SimpleNamespace

    from opensupport.benchmarks.record import PictureWindow, landscape_video

    display_name, x, y, w, h, fps = argv
    window = PictureWindow(SimpleNamespace(display=display_name), int(x), int(y), int(w), int(h))
    # Making a picture takes a quarter of a second on a loaded machine, showing one 10 ms: the pictures
    # are made first and played forth and back (the camera pans one way, then the other), so the video
    # runs at its rate rather than as a slideshow (which the codec would rightly refine between slides).
    source = landscape_video(int(w), int(h))
    loop = [next(source) for _ in range(VIDEO_LOOP)]
    frames = itertools.cycle(loop + loop[-2:0:-1])
    # Each picture is put in a pixmap (X requests are limited in size: in bands) and then copied to the
    # window in one request, as a player swaps its buffers: a capture never sees half a picture.
    back = window.window.create_pixmap(int(w), int(h), window.depth)
    back_gc = back.create_gc()
    band = max(1, 200_000 // (int(w) * 4))

    def show(bgra: Any) -> None:
        for top in range(0, int(h), band):
            part = bgra[top : top + band]
            back.put_image(
                back_gc, 0, top, int(w), part.shape[0], window.X.ZPixmap, window.depth, 0, part.tobytes()
            )
        window.window.copy_area(window.gc, back, 0, 0, int(w), int(h), 0, 0)
        window.display.sync()

    show(next(frames))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("playing", flush=True)
    period = 1.0 / float(fps)
    start = next_at = time.monotonic()
    shown = 0
    while not stop.is_set():
        show(next(frames))
        shown += 1
        next_at = max(next_at + period, time.monotonic() - period)
        stop.wait(max(0.0, next_at - time.monotonic()))
    print(shown, time.monotonic() - start, flush=True)
    window.close()


def run(
    *,
    change_samples: int = 200,
    key_samples: int = 40,
    scroll_seconds: float = 5.0,
    idle_seconds: float = 5.0,
    limited_samples: int = 100,
    limited_warmup: float = 8.0,
    log: Callable[[str], None] = print,
) -> LatencyResult:
    """Run the whole benchmark and return its figures. Raises RuntimeError if a part does not come up."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    import psutil
    from opensupport.benchmarks.record import CHROMIUM_FLAGS, XScreen
    from opensupport.viewer.events import KeyPress, KeyRelease, PointerMove
    from PySide6.QtWidgets import QApplication

    for program in ("Xvfb", "xterm", "chromium", "xdotool"):
        if shutil.which(program) is None:
            raise RuntimeError(f"{program} is not installed: run `make setup`")
    scratch = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    screen = XScreen(WIDTH, HEIGHT)
    processes: list[subprocess.Popen[bytes]] = []
    viewers: list[_Viewer] = []
    video: _VideoPlayer | None = None
    try:
        subprocess.run(["xset", "r", "off"], env=screen.env, check=False)
        port = _free_port()
        processes.append(_start_relay(port, 1 << 30, 256 << 20))
        _wait(lambda: _port_open(port), 20, "the relay")
        app = QApplication.instance() or QApplication(["bench"])
        viewer = _open_session(app, f"http://127.0.0.1:{port}", screen, processes)
        viewers.append(viewer)
        session, probe, host = viewer.session, viewer.probe, viewer.host
        log(f"session up (host pid {host.pid}); measuring screen changes")

        # -- screen change -> viewer framebuffer -----------------------------------------------------------
        change_ms = _measure_changes(screen.display, viewer, app, change_samples)

        # -- key press -> echo in the viewer -------------------------------------------------------------
        log("measuring key press to echo")
        term = subprocess.Popen(
            ["xterm", "-geometry", f"80x10+{XTERM_POS[0]}+{XTERM_POS[1]}", "-e", "sh", "-c", "cat > /dev/null"],
            env=screen.env, start_new_session=True,
        )  # fmt: skip
        processes.append(term)
        screen.wait_for_window(term.pid)
        time.sleep(0.5)
        session.sink.send(PointerMove(XTERM_POS[0] + 100, XTERM_POS[1] + 60))
        time.sleep(0.5)
        tx0, ty0 = XTERM_POS
        key_ms: list[float] = []
        for i in range(key_samples):
            ch = "abcdefghijklmnopqrstuvwxyz"[i % 26]

            def echoed(buffer: Any, update: Any) -> bool:
                return any(
                    rx < tx0 + 700 and rx + rw > tx0 and ry < ty0 + 200 and ry + rh > ty0
                    for rx, ry, rw, rh in update.rects
                )

            probe.arm(echoed)
            t0 = time.perf_counter()
            session.sink.send(KeyPress(ord(ch)))
            session.sink.send(KeyRelease(ord(ch)))
            t1 = probe.wait()
            if t1 is not None:
                key_ms.append((t1 - t0) * 1000)
            time.sleep(random.uniform(0.05, 0.1))
        term.terminate()

        # -- browser scrolling -----------------------------------------------------------------------------
        log("measuring frames per second while Chromium scrolls")
        page = _long_page(scratch)
        browser = subprocess.Popen(
            ["chromium", *CHROMIUM_FLAGS, f"--user-data-dir={scratch / 'profile'}", "--window-position=0,0",
             f"--window-size={WIDTH},{HEIGHT}", f"--app={page.as_uri()}"],
            env=screen.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        processes.append(browser)
        screen.wait_for_window(browser.pid, timeout=60)
        time.sleep(3.0)  # the page loads and the scrolling settles into its pace
        host_proc = psutil.Process(host.pid)
        cpu0 = host_proc.cpu_times()
        before, t0 = probe.updates, time.perf_counter()
        source_fps = _paint_rate(screen.display, scroll_seconds)
        elapsed = time.perf_counter() - t0
        scroll_fps = (probe.updates - before) / elapsed
        cpu1 = host_proc.cpu_times()
        scroll_cpu = ((cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)) / elapsed * 100
        os.killpg(browser.pid, signal.SIGTERM)
        browser.wait(10)

        # -- idle CPU ------------------------------------------------------------------------------------
        log("measuring the host's CPU on an idle screen")
        time.sleep(2.0)
        proc = psutil.Process(host.pid)
        c0, t0 = proc.cpu_times(), time.perf_counter()
        time.sleep(idle_seconds)
        c1, t1 = proc.cpu_times(), time.perf_counter()
        idle_cpu = ((c1.user - c0.user) + (c1.system - c0.system)) / (t1 - t0) * 100
        load_average = os.getloadavg()[0]

        # -- the same change on a 10 Mbit/s link, a video playing ------------------------------------------
        log("measuring screen changes on a 10 Mbit/s link with a video playing (automatic quality)")
        viewer.stop()  # one host on the screen at a time: the first would encode the video too
        limited_port = _free_port()
        processes.append(_start_relay(limited_port, LIMITED_RATE, LIMITED_BURST))
        _wait(lambda: _port_open(limited_port), 20, "the limited relay")
        limited = _open_session(app, f"http://127.0.0.1:{limited_port}", screen, processes)
        viewers.append(limited)
        video = _VideoPlayer(screen, VIDEO_RECT, VIDEO_FPS)
        time.sleep(limited_warmup)  # the host measures the link and finds its quality
        before, t0 = limited.probe.updates, time.perf_counter()
        limited_ms = _measure_changes(screen.display, limited, app, limited_samples)
        video_fps = (limited.probe.updates - before) / (time.perf_counter() - t0)
        state = limited.session.quality_state
        source_fps = video.close()
        video = None
        return LatencyResult(
            change_p50_ms=round(_percentile(change_ms, 50), 2),
            change_p99_ms=round(_percentile(change_ms, 99), 2),
            key_p50_ms=round(_percentile(key_ms, 50), 2),
            scroll_fps=round(scroll_fps, 1),
            browser_paint_fps=round(source_fps, 1),
            scroll_host_cpu_pct=round(scroll_cpu, 1),
            idle_cpu_pct=round(idle_cpu, 2),
            change_samples=len(change_ms),
            key_samples=len(key_ms),
            load_average=round(load_average, 2),
            limited_link_mbit=LIMITED_RATE * 8 / 1e6,
            limited_change_p50_ms=round(_percentile(limited_ms, 50), 2),
            limited_change_p99_ms=round(_percentile(limited_ms, 99), 2),
            limited_video_fps=round(video_fps, 1),
            limited_video_source_fps=round(source_fps, 1),
            limited_quality="?" if state is None else state.quality.value,
            limited_throughput_mbit=float("nan")
            if state is None or state.throughput is None
            else round(state.throughput * 8 / 1e6, 2),
            limited_change_samples=len(limited_ms),
        )
    finally:
        if video is not None:
            video.close()
        for each in viewers:
            each.stop()
        for proc_ in reversed(processes):
            if proc_.poll() is None:
                proc_.terminate()
                try:
                    proc_.wait(10)
                except subprocess.TimeoutExpired:
                    proc_.kill()
        screen.close()
        shutil.rmtree(scratch, ignore_errors=True)


def _paint_rate(display_name: str, seconds: float) -> float:
    """Bursts of drawing per second on the whole screen, from X DAMAGE (a burst: drawing after >= 4 ms
    without any), counted on a connection of our own: how fast the programs on the screen repaint."""
    import select

    from Xlib import display as xdisplay
    from Xlib.ext import damage

    d = xdisplay.Display(display_name)
    try:
        d.damage_query_version()
        damage_id = d.screen().root.damage_create(damage.DamageReportNonEmpty)
        code = d.extension_event.DamageNotify
        d.sync()
        bursts, last = 0, 0.0
        start = time.perf_counter()
        end = start + seconds
        while (now := time.perf_counter()) < end:
            if not d.pending_events():  # sync() may already have queued the next event
                select.select([d.fileno()], [], [], end - now)
            seen = False
            for _ in range(d.pending_events()):
                if d.next_event().type == code:
                    seen = True
            if seen:
                now = time.perf_counter()
                if now - last >= 0.004:
                    bursts += 1
                last = now
                d.damage_subtract(damage_id)
                d.sync()
        return bursts / (time.perf_counter() - start)
    finally:
        d.close()


def _port_open(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def main(argv: Sequence[str]) -> int:
    """``opensupport bench latency [--json] [--changes N] [--keys N] [--limited-changes N]``; returns the exit
    code."""
    parser = argparse.ArgumentParser(prog="opensupport bench latency", description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--changes", type=int, default=200, help="screen-change samples (default 200)")
    parser.add_argument("--keys", type=int, default=40, help="key-echo samples (default 40)")
    parser.add_argument(
        "--limited-changes",
        type=int,
        default=100,
        help="screen-change samples on the 10 Mbit/s link (default 100)",
    )
    args = parser.parse_args(list(argv))
    # A terminated benchmark still ends its Xvfb, relay, host and browser (the finally in run()).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    log: Callable[[str], None] = (lambda _: None) if args.json else (lambda m: print(f"  {m}", flush=True))
    try:
        result = run(
            change_samples=args.changes, key_samples=args.keys, limited_samples=args.limited_changes, log=log
        )
    except RuntimeError as exc:
        print(f"opensupport bench latency: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(asdict(result)))
        return 0
    rows = [
        ("screen change -> viewer framebuffer, p50", f"{result.change_p50_ms:.1f} ms", "<= 16 ms"),
        ("screen change -> viewer framebuffer, p99", f"{result.change_p99_ms:.1f} ms", "<= 40 ms"),
        ("key press -> echo in the viewer, p50", f"{result.key_p50_ms:.1f} ms", "<= 30 ms"),
        ("frames per second, Chromium scrolling", f"{result.scroll_fps:.1f}", ">= 60"),
        ("  (Chromium's own repaints per second)", f"{result.browser_paint_fps:.1f}", ""),
        ("  (host CPU while scrolling)", f"{result.scroll_host_cpu_pct:.0f} % of a core", ""),
        ("host CPU, idle screen", f"{result.idle_cpu_pct:.2f} % of a core", "<= 3 %"),
        ("10 Mbit/s + video: screen change, p50", f"{result.limited_change_p50_ms:.1f} ms", "< 100 ms"),
        ("10 Mbit/s + video: screen change, p99", f"{result.limited_change_p99_ms:.1f} ms", ""),
        ("  (updates per second while the video plays)", f"{result.limited_video_fps:.1f}", ""),
        ("  (the video's own pictures per second)", f"{result.limited_video_source_fps:.1f}", ""),
        (
            "  (quality, link as the host measures them)",
            f"{result.limited_quality}, {result.limited_throughput_mbit:.1f} Mbit/s",
            "",
        ),
    ]
    for name, value, target in rows:
        print(f"{name:<44} {value:>16}   " + (f"target {target}" if target else ""))
    print(
        f"({result.change_samples} change, {result.key_samples} key and {result.limited_change_samples} limited"
        f" change samples; load average {result.load_average})"
    )
    return 0
