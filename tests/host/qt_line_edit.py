"""A Qt line edit on the X screen (argv: x y title): prints its text and exits when Enter is pressed.

Qt reads the keyboard through xkbcommon (XKB), unlike xterm's core Xlib: typing must work for both.
"""

import sys

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit

app = QApplication(sys.argv[:1])
line = QLineEdit()
line.setWindowTitle(sys.argv[3])
line.setWindowFlags(Qt.WindowType.X11BypassWindowManagerHint)
line.setGeometry(int(sys.argv[1]), int(sys.argv[2]), 400, 40)


def finished() -> None:
    sys.stdout.write(line.text() + "\n")
    sys.stdout.flush()
    app.quit()


line.returnPressed.connect(finished)
line.show()
app.exec()
