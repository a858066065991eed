"""The remote-screen widget offscreen: what it paints, what it repaints, what input it sends."""

from __future__ import annotations

import numpy as np
import pytest
from opensupport.viewer.decode import FrameUpdate
from opensupport.viewer.display import CursorImage, DisplayModel, ViewMode
from opensupport.viewer.events import (
    ButtonPress,
    ButtonRelease,
    KeyPress,
    KeyRelease,
    Keysym,
    Modifier,
    MouseButton,
    PointerMove,
    TextInput,
    Wheel,
)
from opensupport.viewer.input import InputController
from opensupport.viewer.ui.screen import BACKGROUND, RemoteScreen
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QInputMethodEvent, QKeyEvent, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from viewer_helpers import RecordingSink, grab_pixels

pytestmark = pytest.mark.usefixtures("qapp")


def block_frame(width: int, height: int, block: int = 8, seed: int = 1) -> np.ndarray:
    """A frame of ``block``-sized squares of random opaque colours."""
    rng = np.random.default_rng(seed)
    colours = rng.integers(
        0, 256, ((height + block - 1) // block, (width + block - 1) // block, 4), dtype=np.uint8
    )
    colours[..., 3] = 255
    return np.ascontiguousarray(colours.repeat(block, 0).repeat(block, 1)[:height, :width])


def make_screen(
    frame: np.ndarray | None,
    size: tuple[int, int],
    mode: ViewMode,
    sink: RecordingSink | None = None,
    smooth: bool = False,
) -> RemoteScreen:
    model = DisplayModel(mode=mode, smooth=smooth)
    screen = RemoteScreen(InputController(model, sink))
    screen.resize(*size)
    screen.show()
    QApplication.processEvents()
    if frame is not None:
        model.store.apply(frame, [])
        h, w = frame.shape[:2]
        screen.on_frame_update(FrameUpdate(1, ((0, 0, w, h),), True, w, h, 0))
    return screen


def background_bgra() -> np.ndarray:
    return np.array([BACKGROUND.blue(), BACKGROUND.green(), BACKGROUND.red(), 255], np.uint8)


def test_one_to_one_paints_exact_pixels_and_background() -> None:
    frame = np.random.default_rng(3).integers(0, 256, (90, 150, 4), dtype=np.uint8)
    frame[..., 3] = 255
    screen = make_screen(frame, (200, 120), ViewMode.ONE_TO_ONE)
    shown = grab_pixels(screen)
    assert shown.shape == (120, 200, 4)
    assert np.array_equal(shown[15:105, 25:175], frame)  # centred, pixel for pixel
    assert (shown[:15] == background_bgra()).all() and (shown[:, :25] == background_bgra()).all()
    assert (shown[105:] == background_bgra()).all() and (shown[:, 175:] == background_bgra()).all()


def test_one_to_one_scrolls() -> None:
    frame = block_frame(300, 200, block=5, seed=4)
    screen = make_screen(frame, (120, 80), ViewMode.ONE_TO_ONE)
    screen.model.set_scroll(100, 60)
    assert np.array_equal(grab_pixels(screen), frame[60:140, 100:220])
    screen.model.set_scroll(10_000, 10_000)
    assert np.array_equal(grab_pixels(screen), frame[120:200, 180:300])


@pytest.mark.parametrize(("frame_size", "widget_size"), [((160, 100), (97, 83)), ((64, 48), (211, 150))])
def test_fit_paints_the_frame_scaled(frame_size: tuple[int, int], widget_size: tuple[int, int]) -> None:
    frame = block_frame(*frame_size, block=8, seed=5)
    screen = make_screen(frame, widget_size, ViewMode.FIT)
    t = screen.model.transform()
    shown = grab_pixels(screen)
    x0, y0, pw, ph = (int(v) for v in t.picture_rect())
    for wy in range(widget_size[1]):
        for wx in range(widget_size[0]):
            if not (x0 <= wx < x0 + pw and y0 <= wy < y0 + ph):
                assert (shown[wy, wx] == background_bgra()).all()
                continue
            # Nearest-neighbour: the colour of a frame pixel within one pixel of the sampled one.
            fx = int((wx + 0.5 - t.origin_x) / t.scale_x)
            fy = int((wy + 0.5 - t.origin_y) / t.scale_y)
            near = frame[max(0, fy - 1) : fy + 2, max(0, fx - 1) : fx + 2].reshape(-1, 4)
            assert (near == shown[wy, wx]).all(axis=1).any(), (wx, wy)


def test_fit_smooth_keeps_block_interiors_exact() -> None:
    frame = block_frame(160, 100, block=16, seed=6)
    screen = make_screen(frame, (120, 90), ViewMode.FIT, smooth=True)
    t = screen.model.transform()
    shown = grab_pixels(screen)
    checked = 0
    for by in range(0, 100, 16):
        for bx in range(0, 160, 16):
            # The centre of each block, far from the blend at its edges.
            wx, wy = t.widget_pixel_of(bx + 8, min(by + 8, 99))
            assert (shown[wy, wx] == frame[min(by + 8, 99), bx + 8]).all()
            checked += 1
    assert checked == 70


@pytest.mark.parametrize("mode", list(ViewMode))
def test_updates_repaint_only_rects_that_cover_the_change(mode: ViewMode) -> None:
    frame = block_frame(180, 120, block=6, seed=7)
    screen = make_screen(frame, (150, 140), mode, smooth=True)
    before = grab_pixels(screen)
    requested = []
    original_update = screen.update

    def recording_update(*args: object) -> None:
        requested.append(args)
        original_update(*args)

    screen.update = recording_update  # type: ignore[method-assign]
    changed = frame.copy()
    rects = [(10, 20, 30, 7), (100, 90, 1, 1), (170, 0, 10, 120)]
    for x, y, w, h in rects:
        changed[y : y + h, x : x + w] = 255 - changed[y : y + h, x : x + w]
        changed[y : y + h, x : x + w, 3] = 255
    screen.model.store.apply(changed, rects)
    screen.on_frame_update(FrameUpdate(2, tuple(rects), False, 180, 120, 0))
    after = grab_pixels(screen)
    assert (
        all(len(args) == 1 for args in requested) and 1 <= len(requested) <= 3
    )  # rects only, never the whole
    mask = np.zeros(after.shape[:2], bool)
    for (qrect,) in requested:
        assert qrect.width() < 150 or qrect.height() < 140
        mask[qrect.top() : qrect.bottom() + 1, qrect.left() : qrect.right() + 1] = True
    differs = (after != before).any(axis=2)
    assert differs.any()
    assert not (differs & ~mask).any()


def test_keys_arrive_as_keysyms_with_modifiers(sink: RecordingSink) -> None:
    screen = make_screen(None, (100, 80), ViewMode.FIT, sink)
    screen.setFocus()
    QTest.keyClick(screen, Qt.Key.Key_A)
    QTest.keyClick(screen, Qt.Key.Key_A, Qt.KeyboardModifier.ShiftModifier)
    QTest.keyClick(screen, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert sink.events == [
        KeyPress(ord("a"), "a"),
        KeyRelease(ord("a")),
        KeyPress(Keysym.SHIFT_L, "", Modifier.SHIFT),
        # QTest gives Shift+A the text "a" (a real keyboard gives "A", see below); Shift is held at the host.
        KeyPress(ord("a"), "a", Modifier.SHIFT),
        KeyRelease(ord("a"), "", Modifier.SHIFT),
        KeyRelease(Keysym.SHIFT_L),
        KeyPress(Keysym.CONTROL_L, "", Modifier.CONTROL),
        KeyPress(ord("c"), "c", Modifier.CONTROL),
        KeyRelease(ord("c"), "", Modifier.CONTROL),
        KeyRelease(Keysym.CONTROL_L),
    ]


def test_the_layouts_text_decides_the_keysym(sink: RecordingSink) -> None:
    screen = make_screen(None, (100, 80), ViewMode.FIT, sink)
    shift = Qt.KeyboardModifier.ShiftModifier
    for key, text in (
        (Qt.Key.Key_A, "A"),
        (Qt.Key.Key_Exclam, "!"),
        (Qt.Key.Key_Eacute, "é"),
        (Qt.Key.Key_unknown, "ㅎ"),
    ):
        QApplication.sendEvent(screen, QKeyEvent(QEvent.Type.KeyPress, key, shift, text))
        QApplication.sendEvent(screen, QKeyEvent(QEvent.Type.KeyRelease, key, shift, text))
    # Ctrl+C as X11 reports it: the text is the control character, the key says which letter.
    control = Qt.KeyboardModifier.ControlModifier
    QApplication.sendEvent(screen, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_C, control, "\x03"))
    QApplication.sendEvent(screen, QKeyEvent(QEvent.Type.KeyRelease, Qt.Key.Key_C, control, "\x03"))
    assert sink.events == [
        KeyPress(ord("A"), "A", Modifier.SHIFT),
        KeyRelease(ord("A"), "", Modifier.SHIFT),
        KeyPress(ord("!"), "!", Modifier.SHIFT),
        KeyRelease(ord("!"), "", Modifier.SHIFT),
        KeyPress(0xE9, "é", Modifier.SHIFT),
        KeyRelease(0xE9, "", Modifier.SHIFT),
        KeyPress(0x01000000 + ord("ㅎ"), "ㅎ", Modifier.SHIFT),
        KeyRelease(0x01000000 + ord("ㅎ"), "", Modifier.SHIFT),
        KeyPress(ord("c"), "", Modifier.CONTROL),
        KeyRelease(ord("c"), "", Modifier.CONTROL),
    ]


@pytest.mark.parametrize(
    ("key", "modifiers", "keysym"),
    [
        (Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier, Keysym.RETURN),
        (Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier, Keysym.ESCAPE),
        (Qt.Key.Key_Tab, Qt.KeyboardModifier.NoModifier, Keysym.TAB),
        (Qt.Key.Key_Backspace, Qt.KeyboardModifier.NoModifier, Keysym.BACKSPACE),
        (Qt.Key.Key_Delete, Qt.KeyboardModifier.NoModifier, Keysym.DELETE),
        (Qt.Key.Key_Left, Qt.KeyboardModifier.NoModifier, Keysym.LEFT),
        (Qt.Key.Key_PageDown, Qt.KeyboardModifier.NoModifier, Keysym.PAGE_DOWN),
        (Qt.Key.Key_F5, Qt.KeyboardModifier.NoModifier, Keysym.F1 + 4),
        (Qt.Key.Key_F12, Qt.KeyboardModifier.NoModifier, Keysym.F1 + 11),
        (Qt.Key.Key_Home, Qt.KeyboardModifier.NoModifier, Keysym.HOME),
        (Qt.Key.Key_7, Qt.KeyboardModifier.KeypadModifier, Keysym.KP_0 + 7),
        (Qt.Key.Key_Enter, Qt.KeyboardModifier.KeypadModifier, Keysym.KP_ENTER),
    ],
)
def test_special_keys(sink: RecordingSink, key: Qt.Key, modifiers: Qt.KeyboardModifier, keysym: int) -> None:
    screen = make_screen(None, (100, 80), ViewMode.FIT, sink)
    screen.setFocus()
    QTest.keyClick(screen, key, modifiers)
    assert [(type(e), e.keysym) for e in sink.events] == [(KeyPress, keysym), (KeyRelease, keysym)]


def test_alt_tab_and_shift_tab_stay_in_the_screen(sink: RecordingSink) -> None:
    screen = make_screen(None, (100, 80), ViewMode.FIT, sink)
    screen.setFocus()
    QTest.keyClick(screen, Qt.Key.Key_Tab, Qt.KeyboardModifier.AltModifier)
    QTest.keyClick(screen, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert [(type(e).__name__, e.keysym) for e in sink.events] == [
        ("KeyPress", Keysym.ALT_L),
        ("KeyPress", Keysym.TAB),
        ("KeyRelease", Keysym.TAB),
        ("KeyRelease", Keysym.ALT_L),
        ("KeyPress", Keysym.SHIFT_L),
        ("KeyPress", Keysym.TAB),
        ("KeyRelease", Keysym.TAB),
        ("KeyRelease", Keysym.SHIFT_L),
    ]
    assert screen.hasFocus()


def test_input_method_commits_korean_text(sink: RecordingSink) -> None:
    screen = make_screen(None, (100, 80), ViewMode.FIT, sink)
    preedit = QInputMethodEvent("ㅎ", [])
    QApplication.sendEvent(screen, preedit)
    commit = QInputMethodEvent("", [])
    commit.setCommitString("안녕하세요")
    QApplication.sendEvent(screen, commit)
    assert sink.events == [TextInput("안녕하세요")]


def test_focus_loss_releases_held_keys(sink: RecordingSink) -> None:
    screen = make_screen(None, (100, 80), ViewMode.FIT, sink)
    screen.setFocus()
    QTest.keyPress(screen, Qt.Key.Key_Alt)
    QTest.keyPress(screen, Qt.Key.Key_X, Qt.KeyboardModifier.AltModifier)
    sink.events.clear()
    screen.clearFocus()
    QApplication.processEvents()
    assert sink.events == [KeyRelease(ord("x"), "", Modifier.ALT), KeyRelease(Keysym.ALT_L)]


def fit_screen(sink: RecordingSink) -> RemoteScreen:
    # A 400x300 frame in a 200x200 widget: scale 0.5, the picture at (0, 25)..(200, 175).
    return make_screen(block_frame(400, 300), (200, 200), ViewMode.FIT, sink)


def wheel_event(x: float, y: float, delta: QPoint) -> QWheelEvent:
    return QWheelEvent(
        QPointF(x, y),
        QPointF(x, y),
        QPoint(),
        delta,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )


def test_click_drag_and_wheel_map_to_host_pixels_in_fit_mode(sink: RecordingSink) -> None:
    screen = fit_screen(sink)
    t = screen.model.transform()
    assert t.picture_rect() == (0, 25, 200, 150)
    centre = t.frame_pixel_at(100, 100)
    assert centre is not None and abs(centre[0] - 200) <= 1 and abs(centre[1] - 150) <= 1
    QTest.mouseClick(screen, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(100, 100))
    assert [e for e in sink.events if not isinstance(e, PointerMove)] == [
        ButtonPress(MouseButton.LEFT, *centre),
        ButtonRelease(MouseButton.LEFT, *centre),
    ]
    sink.events.clear()
    # A drag from the top-left corner pixel to the bottom-right one, then above the picture (clamped).
    QTest.mousePress(screen, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, QPoint(0, 25))
    QTest.mouseMove(screen, QPoint(50, 60))
    QTest.mouseMove(screen, QPoint(199, 174))
    QTest.mouseMove(screen, QPoint(199, 10))
    QTest.mouseRelease(screen, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, QPoint(199, 10))
    moves = [e for e in sink.events if isinstance(e, PointerMove)]
    assert [e for e in sink.events if not isinstance(e, PointerMove)] == [
        ButtonPress(MouseButton.RIGHT, 0, 0),
        ButtonRelease(MouseButton.RIGHT, 399, 0),
    ]
    middle = t.frame_pixel_at(50, 60)
    assert middle is not None and abs(middle[0] - 100) <= 1 and abs(middle[1] - 70) <= 1
    assert PointerMove(*middle) in moves and PointerMove(399, 299) in moves and PointerMove(399, 0) in moves
    sink.events.clear()
    # Neither a click nor a move in the letterbox above the picture is sent.
    QTest.mouseClick(screen, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(100, 10))
    QTest.mouseMove(screen, QPoint(120, 5))
    assert sink.events == []
    at = t.frame_pixel_at(150, 100)
    assert at is not None
    for delta in (QPoint(0, 120), QPoint(0, -240), QPoint(120, 0), QPoint(0, 60), QPoint(0, 60)):
        QApplication.sendEvent(screen, wheel_event(150, 100, delta))
    assert sink.events == [Wheel(0, 1, *at), Wheel(0, -2, *at), Wheel(-1, 0, *at), Wheel(0, 1, *at)]


def test_view_only_suppresses_all_input(sink: RecordingSink) -> None:
    screen = fit_screen(sink)
    screen.setFocus()
    screen.controller.set_view_only(True)
    QTest.keyClick(screen, Qt.Key.Key_A, Qt.KeyboardModifier.ShiftModifier)
    QTest.keyClick(screen, Qt.Key.Key_Return)
    QTest.mouseClick(screen, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(100, 125))
    QTest.mouseMove(screen, QPoint(20, 120))
    QApplication.sendEvent(screen, wheel_event(150, 100, QPoint(0, 120)))
    commit = QInputMethodEvent("", [])
    commit.setCommitString("한글")
    QApplication.sendEvent(screen, commit)
    screen.controller.send_combination((Keysym.CONTROL_L, Keysym.ALT_L, Keysym.DELETE))
    assert sink.events == []
    assert screen.controller.suppressed > 0
    screen.controller.set_view_only(False)
    QTest.keyClick(screen, Qt.Key.Key_B)
    assert sink.events == [KeyPress(ord("b"), "b"), KeyRelease(ord("b"))]


def test_view_only_releases_what_was_held(sink: RecordingSink) -> None:
    screen = fit_screen(sink)
    screen.setFocus()
    QTest.keyPress(screen, Qt.Key.Key_Shift)
    QTest.mousePress(screen, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(100, 100))
    at = screen.model.transform().frame_pixel_at(100, 100)
    assert at is not None
    sink.events.clear()
    screen.controller.set_view_only(True)
    assert sink.events == [ButtonRelease(MouseButton.LEFT, *at), KeyRelease(Keysym.SHIFT_L)]


def cursor_image() -> CursorImage:
    # 6x5, opaque red except a transparent first column; hot spot (2, 1).
    pixels = np.zeros((5, 6, 4), np.uint8)
    pixels[:, 1:] = (0, 0, 255, 255)
    return CursorImage(6, 5, 2, 1, pixels.tobytes())


def test_the_host_pointer_is_drawn_in_view_only_and_lent_to_the_local_pointer_otherwise() -> None:
    frame = block_frame(150, 90, block=10, seed=8)
    screen = make_screen(frame, (200, 120), ViewMode.ONE_TO_ONE)  # picture at (25, 15)
    screen.set_cursor_shape(cursor_image())
    screen.set_cursor_position(50, 40)
    # In control: not drawn, the local pointer has the host's shape and hot spot.
    assert np.array_equal(grab_pixels(screen)[15:105, 25:175], frame)
    assert screen.cursor().pixmap().width() == 6 and screen.cursor().hotSpot() == QPoint(2, 1)
    screen.model.view_only = True
    screen.view_only_changed()
    shown = grab_pixels(screen)
    top_left = (25 + 50 - 2, 15 + 40 - 1)
    red = np.array([0, 0, 255, 255], np.uint8)
    assert (shown[top_left[1] : top_left[1] + 5, top_left[0] + 1 : top_left[0] + 6] == red).all()
    # The transparent column shows the frame underneath.
    assert np.array_equal(shown[top_left[1] : top_left[1] + 5, top_left[0]], frame[39:44, 48])
    assert screen.cursor().shape() == Qt.CursorShape.ArrowCursor
    # Moved, then hidden: the old place shows the frame again.
    screen.set_cursor_position(100, 60)
    shown = grab_pixels(screen)
    assert np.array_equal(
        shown[top_left[1] : top_left[1] + 5, top_left[0] : top_left[0] + 6], frame[39:44, 48:54]
    )
    assert (shown[15 + 59 : 15 + 64, 25 + 99 : 25 + 104] == red).all()
    screen.set_cursor_position(0, 0, visible=False)
    assert np.array_equal(grab_pixels(screen)[15:105, 25:175], frame)


def test_cursor_images_are_validated() -> None:
    with pytest.raises(ValueError):
        CursorImage(6, 5, 6, 1, bytes(120))
    with pytest.raises(ValueError):
        CursorImage(6, 5, 0, 0, bytes(119))
    with pytest.raises(ValueError):
        CursorImage(129, 1, 0, 0, bytes(129 * 4))


def test_auto_repeat_from_qt(sink: RecordingSink) -> None:
    screen = make_screen(None, (100, 80), ViewMode.FIT, sink)
    none = Qt.KeyboardModifier.NoModifier
    QApplication.sendEvent(screen, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_X, none, "x"))
    for _ in range(2):
        QApplication.sendEvent(screen, QKeyEvent(QEvent.Type.KeyRelease, Qt.Key.Key_X, none, "x", True))
        QApplication.sendEvent(screen, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_X, none, "x", True))
    QApplication.sendEvent(screen, QKeyEvent(QEvent.Type.KeyRelease, Qt.Key.Key_X, none, "x"))
    assert sink.events == [KeyPress(ord("x"), "x")] * 3 + [KeyRelease(ord("x"))]


def test_native_x11_keysyms_tell_right_modifiers_and_the_keypad_apart(sink: RecordingSink) -> None:
    screen = make_screen(None, (100, 80), ViewMode.FIT, sink)
    screen.use_native_keysyms = True  # what the xcb platform turns on
    keypad = Qt.KeyboardModifier.KeypadModifier
    for key, modifiers, scan, native in (
        (Qt.Key.Key_Shift, Qt.KeyboardModifier.ShiftModifier, 62, 0xFFE2),  # Shift_R
        (Qt.Key.Key_Home, keypad, 79, 0xFF95),  # KP_Home (NumLock off)
        (Qt.Key.Key_C, Qt.KeyboardModifier.NoModifier, 54, 0x63),  # a character: the table and text decide
    ):
        QApplication.sendEvent(screen, QKeyEvent(QEvent.Type.KeyPress, key, modifiers, scan, native, 0, ""))
    for key, scan, native in (
        (Qt.Key.Key_C, 54, 0x63),
        (Qt.Key.Key_Home, 79, 0xFF95),
        (Qt.Key.Key_Shift, 62, 0xFFE2),
    ):
        QApplication.sendEvent(
            screen,
            QKeyEvent(QEvent.Type.KeyRelease, key, Qt.KeyboardModifier.NoModifier, scan, native, 0, ""),
        )
    assert [(type(e).__name__, e.keysym) for e in sink.events] == [
        ("KeyPress", 0xFFE2),
        ("KeyPress", 0xFF95),
        ("KeyPress", ord("c")),
        ("KeyRelease", ord("c")),
        ("KeyRelease", 0xFF95),
        ("KeyRelease", 0xFFE2),
    ]


def test_the_waiting_screen_shows_its_text() -> None:
    screen = make_screen(None, (400, 200), ViewMode.FIT)
    screen.waiting_text = ""
    blank = grab_pixels(screen)
    assert (blank == background_bgra()).all()
    screen.waiting_text = "Session code: K7QM2X-48213907"
    shown = grab_pixels(screen)
    text_pixels = (shown != background_bgra()).any(axis=2)
    assert text_pixels.sum() > 100
    rows, cols = np.nonzero(text_pixels)
    assert 60 < rows.mean() < 140 and 120 < cols.mean() < 280  # centred


def test_many_rects_are_repainted_as_their_bounding_rect() -> None:
    frame = block_frame(180, 120, block=6, seed=9)
    screen = make_screen(frame, (150, 140), ViewMode.FIT)
    before = grab_pixels(screen)
    requested: list[tuple[object, ...]] = []
    original_update = screen.update

    def recording_update(*args: object) -> None:
        requested.append(args)
        original_update(*args)

    screen.update = recording_update  # type: ignore[method-assign]
    rects = [(20 + 4 * (i % 10), 30 + 5 * (i // 10), 3, 4) for i in range(40)]
    changed = frame.copy()
    for x, y, w, h in rects:
        changed[y : y + h, x : x + w, :3] = 255 - changed[y : y + h, x : x + w, :3]
    screen.model.store.apply(changed, rects)
    screen.on_frame_update(FrameUpdate(2, tuple(rects), False, 180, 120, 0))
    after = grab_pixels(screen)
    assert len(requested) == 1
    (qrect,) = requested[0]
    expected = screen.model.repaint_rect((20, 30, 39, 19))
    assert expected is not None
    assert (qrect.x(), qrect.y(), qrect.width(), qrect.height()) == tuple(expected)  # type: ignore[attr-defined]
    differs = np.argwhere((after != before).any(axis=2))
    assert differs.size > 0
    assert differs[:, 1].min() >= expected.x and differs[:, 1].max() < expected.x + expected.w
    assert differs[:, 0].min() >= expected.y and differs[:, 0].max() < expected.y + expected.h


def test_the_text_being_composed_is_shown_until_committed(sink: RecordingSink) -> None:
    frame = block_frame(200, 120, block=10, seed=10)
    screen = make_screen(frame, (200, 120), ViewMode.ONE_TO_ONE, sink)
    QApplication.sendEvent(screen, QInputMethodEvent("하", []))
    shown = grab_pixels(screen)
    box = shown[60:120, 0:60]
    yellow = np.array([200, 255, 255, 255], np.uint8)  # PREEDIT_BACKGROUND in BGRA
    assert (box == yellow).all(axis=2).sum() > 50
    assert np.array_equal(shown[:40], frame[:40])  # the rest of the picture is untouched
    assert sink.events == []  # nothing is sent while composing
    commit = QInputMethodEvent("", [])
    commit.setCommitString("한")
    QApplication.sendEvent(screen, commit)
    assert sink.events == [TextInput("한")]
    assert np.array_equal(grab_pixels(screen), frame)


def test_cursor_alpha_is_premultiplied() -> None:
    frame = np.zeros((60, 80, 4), np.uint8)
    frame[..., 3] = 255
    screen = make_screen(frame, (80, 60), ViewMode.ONE_TO_ONE)
    half_red = np.zeros((2, 2, 4), np.uint8)
    half_red[...] = (0, 0, 128, 128)  # 50 % red, premultiplied
    screen.set_cursor_shape(CursorImage(2, 2, 0, 0, half_red.tobytes()))
    screen.set_cursor_position(10, 10)
    screen.model.view_only = True
    screen.view_only_changed()
    pixel = grab_pixels(screen)[10, 10]
    assert abs(int(pixel[2]) - 128) <= 1 and pixel[0] == 0 and pixel[1] == 0  # over black: 128, not 64
