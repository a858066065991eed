"""The host applet's small window (PySide6): who is connected, the sharing banner, pause and stop."""
