"""The recording player window (Qt) over the GUI-free :class:`~opensupport.tools.recording.Player`:
the picture, a position slider (seek), play/pause, the speed (0.5x to 4x) and the MP4 export."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from opensupport.tools.recording import SPEEDS, Player, RecordingError, RecordingReader, export_mp4
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent, QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

__all__ = ["PlayerWindow"]

#: Playback timer period (ms).
TICK_MS = 40


def _clock(ms: int) -> str:
    s = ms // 1000
    return f"{s // 3600:d}:{s // 60 % 60:02d}:{s % 60:02d}"


class PlayerWindow(QWidget):
    """Plays one recording file. Raises RecordingError if the file cannot be played."""

    def __init__(self, path: str | Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = Path(path)
        self.reader = RecordingReader(self.path)
        self.player = Player(self.reader)
        self.setWindowTitle(f"Recording — {self.path.name}")
        self.picture = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.picture.setMinimumSize(320, 200)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, self.player.duration_ms)
        self.slider.sliderMoved.connect(self.seek)
        self.play_button = QPushButton("Play")
        self.play_button.clicked.connect(self.toggle)
        self.speed_box = QComboBox()
        for speed in SPEEDS:
            self.speed_box.addItem(f"{speed:g}x", speed)
        self.speed_box.setCurrentIndex(SPEEDS.index(1.0))
        self.speed_box.currentIndexChanged.connect(
            lambda i: self.set_speed(float(self.speed_box.itemData(i)))
        )
        self.time_label = QLabel()
        self.export_button = QPushButton("Export MP4…")
        self.export_button.clicked.connect(self._ask_export)
        controls = QHBoxLayout()
        for widget in (self.play_button, self.slider, self.time_label, self.speed_box, self.export_button):
            controls.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.addWidget(self.picture, 1)
        layout.addLayout(controls)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        self._last_tick = 0.0
        self.playing = False
        self._show()

    # -- playback ---------------------------------------------------------------------------------------
    def toggle(self) -> None:
        """Play or pause (playing from the end starts again)."""
        if self.playing:
            self.pause()
        else:
            if self.player.position_ms >= self.player.duration_ms:
                self.seek(0)
            self.playing = True
            self.play_button.setText("Pause")
            self._last_tick = time.monotonic()
            self.timer.start(TICK_MS)

    def pause(self) -> None:
        """Stop at the current position."""
        self.playing = False
        self.play_button.setText("Play")
        self.timer.stop()

    def set_speed(self, speed: float) -> None:
        """0.5x to 4x. Raises ValueError outside."""
        self.player.speed = speed

    def seek(self, time_ms: int) -> None:
        """Show the picture at ``time_ms``."""
        self._guard(lambda: self.player.seek(time_ms))
        self._show()

    def tick(self, seconds: float) -> None:
        """Advance by ``seconds`` of wall clock (the timer calls it; tests call it directly)."""
        if self._guard(lambda: self.player.advance(seconds)):
            self._show()
        if self.player.position_ms >= self.player.duration_ms:
            self.pause()

    def _tick(self) -> None:
        now = time.monotonic()
        elapsed, self._last_tick = now - self._last_tick, now
        self.tick(elapsed)

    def _guard(self, action: Callable[[], object]) -> bool:
        try:
            return action() is not False
        except RecordingError as exc:
            self.pause()
            QMessageBox.warning(self, "Recording", str(exc))
            return False

    def displayed(self) -> np.ndarray:
        """The picture shown now (RGB), as the label holds it."""
        image = self.picture.pixmap().toImage().convertToFormat(QImage.Format.Format_RGB888)
        w, h = image.width(), image.height()
        raw = np.frombuffer(image.constBits(), np.uint8).reshape(h, image.bytesPerLine())
        return raw[:, : w * 3].reshape(h, w, 3).copy()

    def _show(self) -> None:
        fb = self.player.framebuffer
        h, w = int(fb.shape[0]), int(fb.shape[1])
        image = QImage(fb.data, w, h, w * 4, QImage.Format.Format_RGB32).copy()
        self.picture.setPixmap(QPixmap.fromImage(image))
        self.slider.blockSignals(True)
        self.slider.setValue(self.player.position_ms)
        self.slider.blockSignals(False)
        self.time_label.setText(f"{_clock(self.player.position_ms)} / {_clock(self.player.duration_ms)}")

    # -- export -----------------------------------------------------------------------------------------
    def _ask_export(self) -> None:
        target, _ = QFileDialog.getSaveFileName(
            self, "Export MP4", str(self.path.with_suffix(".mp4")), "MP4 (*.mp4)"
        )
        if target:
            self.export(Path(target))

    def export(self, target: Path, fps: int = 25) -> int:
        """Export to ``target`` with a progress dialog; returns the frames written (0 if it failed)."""
        self.pause()
        progress = QProgressDialog("Exporting…", "", 0, 100, self)
        progress.setCancelButton(None)
        progress.setWindowModality(Qt.WindowModality.WindowModal)

        def step(fraction: float) -> None:
            progress.setValue(round(fraction * 100))

        try:
            with RecordingReader(self.path) as reader:
                return int(export_mp4(reader, target, fps=fps, progress=step))
        except RecordingError as exc:
            QMessageBox.warning(self, "Export", str(exc))
            return 0
        finally:
            progress.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Release the file."""
        self.timer.stop()
        self.reader.close()
        super().closeEvent(event)
